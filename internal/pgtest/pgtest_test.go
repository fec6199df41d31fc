package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem/internal/pgtest"
)

func TestNewSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema, "test_") {
		t.Errorf("current_schema = %q, want test_…", schema)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE t (v vector(3))`); err != nil {
		t.Errorf("vector type does not resolve: %v", err)
	}
}
