package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// runBackup copies the embedded store to a file while servers keep running. PostgreSQL has
// its own tools (pg_dump, base backups), which know more than this binary could.
func runBackup(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem backup")
	sf := addStoreFlags(env, fs)
	to := fs.String("to", "", "the backup file to create (must not exist)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: tandem backup --to FILE [--data-dir DIR]\n\nCopies the embedded store while servers keep running (one consistent snapshot, integrity-checked).\nTo restore, stop the servers and copy FILE to DIR/"+app.SQLiteFile+" (remove any "+app.SQLiteFile+"-wal and -shm beside it).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *to == "" || fs.NArg() > 0:
		return fmt.Errorf("%w: tandem backup needs --to FILE and nothing else", errUsage)
	case sf.databaseURL != "":
		return fmt.Errorf("%w: the store is PostgreSQL: back it up with pg_dump or your provider's backups", errUsage)
	}
	src := filepath.Join(sf.dataDir, app.SQLiteFile)
	if err := sqlite.Backup(ctx, src, *to); err != nil {
		if c := tandem.ErrorCode(err); c == tandem.ENOTFOUND || c == tandem.ECONFLICT {
			return fmt.Errorf("%w: %s", errUsage, tandem.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(env.Stdout, "backed up %s to %s (integrity check ok)\n", src, *to)
	return nil
}
