package postgres_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/postgres"
	"github.com/tandemhq/tandem/storage/storagetest"
)

var quiet = slog.New(slog.DiscardHandler)

// openTemp opens a migrated store in a fresh schema, closed in t.Cleanup.
func openTemp(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.NewSchema(t), postgres.Config{Migrate: true, Logger: quiet, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) }, storagetest.Features{TextStopWords: true})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := postgres.Open(ctx, "postgres://unused", postgres.Config{SynchronousCommit: "sometimes"})
		if got := tandem.ErrorCode(err); got != tandem.EINVALID {
			t.Errorf("Open with bad SynchronousCommit: code %q (%v), want invalid", got, err)
		}
	})
	t.Run("ErrStaleSchema", func(t *testing.T) {
		t.Parallel()
		_, err := postgres.Open(ctx, pgtest.NewSchema(t), postgres.Config{Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), "tandem migrate") {
			t.Fatalf("Open on empty schema without Migrate = %v, want an error naming `tandem migrate`", err)
		}
	})
	t.Run("ConcurrentMigrate", func(t *testing.T) {
		// Replicas starting together: every Open succeeds and each migration runs once.
		t.Parallel()
		dsn := pgtest.NewSchema(t)
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := postgres.Open(ctx, dsn, postgres.Config{Logger: quiet, MaxConns: 2, Migrate: true})
				if err == nil {
					s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
		}
		s, err := postgres.Open(ctx, dsn, postgres.Config{Logger: quiet})
		if err != nil {
			t.Fatalf("open migrated schema: %v", err)
		}
		defer s.Close()
		var rows, versions int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
			t.Fatal(err)
		}
		if rows != versions || rows == 0 {
			t.Errorf("schema_migrations rows = %d for %d versions", rows, versions)
		}
		if n, err := s.Migrate(ctx); err != nil || n != 0 {
			t.Errorf("Migrate on current schema = %d, %v; want 0, nil", n, err)
		}
	})
}
