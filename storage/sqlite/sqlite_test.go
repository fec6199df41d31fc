package sqlite_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
	"github.com/tandemhq/tandem/storage/storagetest"
)

// openTemp opens a migrated store in a fresh temporary directory, closed in t.Cleanup.
func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tandem.db"), sqlite.Config{Migrate: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) }, storagetest.Features{})
}

func TestStoreMemory(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(context.Background(), ":memory:", sqlite.Config{Migrate: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storagetest.Features{})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ErrStaleSchema", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "tandem.db")
		_, err := sqlite.Open(ctx, path, sqlite.Config{})
		if err == nil || !strings.Contains(err.Error(), "tandem migrate") {
			t.Fatalf("Open on empty db without Migrate = %v, want an error naming `tandem migrate`", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tandem.db"), sqlite.Config{ReadConns: -1})
		if got := tandem.ErrorCode(err); got != tandem.EINVALID {
			t.Errorf("Open with ReadConns -1: code %q (%v), want invalid", got, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "tandem.db")
		s, err := sqlite.Open(ctx, path, sqlite.Config{Migrate: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Migrate(ctx)
		if err != nil || n != 0 {
			t.Errorf("second Migrate = %d, %v; want 0, nil", n, err)
		}
		s.Close()
		s, err = sqlite.Open(ctx, path, sqlite.Config{})
		if err != nil {
			t.Fatalf("reopen migrated db without Migrate: %v", err)
		}
		s.Close()
	})
}

var quiet = slog.New(slog.DiscardHandler)
