package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
)

// storeFlags are the flags that choose a store, shared by commands that open one.
type storeFlags struct {
	dataDir     string
	databaseURL string
	migrate     bool
}

// addStoreFlags registers --data-dir, --database-url and --migrate on fs, with defaults
// from TANDEM_DATA_DIR and TANDEM_DATABASE_URL.
func addStoreFlags(env Env, fs *flag.FlagSet) *storeFlags {
	sf := &storeFlags{}
	fs.StringVar(&sf.dataDir, "data-dir", envDefault(env, "TANDEM_DATA_DIR", "./data"), "embedded store folder (env TANDEM_DATA_DIR)")
	fs.StringVar(&sf.databaseURL, "database-url", envDefault(env, "TANDEM_DATABASE_URL", ""), "PostgreSQL URL; empty uses the embedded store (env TANDEM_DATABASE_URL)")
	fs.BoolVar(&sf.migrate, "migrate", true, "apply pending schema migrations")
	return sf
}

// openStore opens the store the flags name, exactly as the server would: PostgreSQL when a
// database URL is set, else the embedded SQLite file in the data folder.
func openStore(ctx context.Context, sf storeFlags) (storage.Store, error) {
	cfg := config.Config{DataDir: sf.dataDir, DatabaseURL: sf.databaseURL, Migrate: &sf.migrate}
	return app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// freshSchema creates a uniquely named schema in the database at dsn and returns a DSN that
// selects it, and a function that drops it.
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("tandem_tmp_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public`); err != nil {
		return "", nil, fmt.Errorf("create extension: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			_, _ = c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			c.Close(ctx)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// withDSNParam returns dsn with the query parameter key set to value.
func withDSNParam(dsn, key, value string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// checkpoint asks the PostgreSQL server at dsn for a checkpoint.
func checkpoint(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CHECKPOINT`)
	return err
}
