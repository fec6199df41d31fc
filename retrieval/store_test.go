package retrieval_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/postgres"
	"github.com/tandemhq/tandem/storage/sqlite"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore returns a fresh SQLite store in a temporary folder.
func openStore(t testing.TB) storage.KnowledgeStore {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kb.db"), sqlite.Config{Migrate: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres returns a store on a fresh PostgreSQL schema (skipped, or failed when
// TANDEM_REQUIRE_POSTGRES=1, without a database).
func openPostgres(t testing.TB) storage.KnowledgeStore {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.NewSchema(t), postgres.Config{Migrate: true, Logger: quiet, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backends are the stores the knowledge base must behave the same on.
var backends = []struct {
	name string
	open func(testing.TB) storage.KnowledgeStore
}{
	{"sqlite", openStore},
	{"postgres", openPostgres},
}
