// Package teststore opens each storage backend on fresh, empty storage, for tests of code
// that must behave the same on both (conflicts and races come from the store).
package teststore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/postgres"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// Backend opens one kind of store, closed when the test ends.
type Backend struct {
	Name string
	Open func(t testing.TB) storage.Store
}

// All are SQLite (a file in the test's temporary folder) and PostgreSQL (a schema of its
// own; see pgtest for when it is skipped or required).
var All = []Backend{
	{"SQLite", func(t testing.TB) storage.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"PostgreSQL", func(t testing.TB) storage.Store {
		st, err := postgres.Open(context.Background(), pgtest.NewSchema(t), postgres.Config{Migrate: true, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}
