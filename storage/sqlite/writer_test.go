package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
)

// TestRunGroup checks a group commit keeps each member atomic: a failing member is rolled
// back to its savepoint while the others commit.
func TestRunGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	insert := func(id string, fail bool) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO collections (name, created_at) VALUES (?, 0)`, id); err != nil {
				return err
			}
			if fail {
				return errors.New("boom")
			}
			return nil
		}
	}
	req := func(fn func(*sql.Tx) error) *writeReq { return &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})} }
	// Nothing else writes, so the idle writer goroutine does not compete for the connection.
	batch := []*writeReq{req(insert("a", false)), req(insert("b", true)), req(insert("a", false)), req(insert("c", false))}
	s.runGroup(batch)
	if batch[0].err != nil || batch[3].err != nil {
		t.Fatalf("good members failed: %v, %v", batch[0].err, batch[3].err)
	}
	if batch[1].err == nil || batch[2].err == nil {
		t.Fatalf("bad members succeeded: %v, %v", batch[1].err, batch[2].err)
	}
	var names []string
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM collections ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if got := len(names); got != 2 || names[0] != "a" || names[1] != "c" {
		t.Errorf("committed = %v, want [a c]", names)
	}
}

func TestWriteAfterClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, "", Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.writeTx(ctx, func(*sql.Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("write after Close = %v, want errClosed", err)
	}
}
