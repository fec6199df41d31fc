// Package pgtest gives tests their own PostgreSQL schema.
//
//	dsn := pgtest.NewSchema(t) // fresh schema, dropped in t.Cleanup
//	store, err := postgres.Open(ctx, dsn, postgres.Config{Migrate: true})
//
// The database comes from TANDEM_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot be reached the
// test is skipped, or fails when TANDEM_REQUIRE_POSTGRES=1. The returned DSN sets
// search_path=<schema>,public, so tables go to the new schema while the pgvector `vector`
// type, created in public when missing, still resolves.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the database used when TANDEM_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the test database URL from the environment or DefaultURL.
func URL() string {
	if v := os.Getenv("TANDEM_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultURL
}

// NewSchema creates a uniquely named schema, returns a DSN whose search_path selects it
// (then public), and drops it with everything in it when the test ends.
func NewSchema(t testing.TB) (dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := URL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, err)
		return ""
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	// The extension lives in public so every schema shares it; concurrent CREATE EXTENSION
	// can race, so tolerate a duplicate.
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public`); err != nil {
		if _, err2 := conn.Exec(ctx, `SELECT 'public.vector'::regtype`); err2 != nil {
			t.Fatalf("pgtest: create extension vector: %v", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("pgtest: PostgreSQL at %s unavailable: %v", URL(), err)
	if os.Getenv("TANDEM_REQUIRE_POSTGRES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (set TANDEM_REQUIRE_POSTGRES=1 to fail instead)")
}
