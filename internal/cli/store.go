package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/postgres"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// SQLiteFile is the name of the embedded store's database file inside the data folder.
const SQLiteFile = "tandem.db"

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

// openStore opens the store the flags name: PostgreSQL when a database URL is set, else
// the embedded SQLite file in the data folder (created when missing).
func openStore(ctx context.Context, sf storeFlags) (storage.Store, error) {
	if sf.databaseURL != "" {
		return openPostgres(ctx, sf.databaseURL, sf.migrate)
	}
	if err := os.MkdirAll(sf.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	return openSQLite(ctx, filepath.Join(sf.dataDir, SQLiteFile), sf.migrate)
}

func openSQLite(ctx context.Context, path string, migrate bool) (storage.Store, error) {
	s, err := sqlite.Open(ctx, path, sqlite.Config{Migrate: migrate})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string, migrate bool) (storage.Store, error) {
	s, err := postgres.Open(ctx, dsn, postgres.Config{Migrate: migrate})
	if err != nil {
		return nil, err
	}
	return s, nil
}
