package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/tandemhq/tandem"
)

// Backup copies the database at src to a new file dst while servers keep using it: VACUUM
// INTO reads one consistent snapshot (commits after it starts are not in the copy) and
// writes a compact database with no WAL beside it, which is then checked with
// PRAGMA integrity_check. dst must not exist; a failed backup removes what it wrote.
func Backup(ctx context.Context, src, dst string) (err error) {
	if _, err := os.Stat(src); err != nil {
		return tandem.Errorf(tandem.ENOTFOUND, "sqlite backup: no database at %s", src)
	}
	if _, err := os.Stat(dst); err == nil {
		return tandem.Errorf(tandem.ECONFLICT, "sqlite backup: %s already exists; nothing was written", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite backup: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+src+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("sqlite backup: %w", err)
	}
	defer db.Close()
	defer func() {
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("sqlite backup of %s: %w", src, err)
	}
	return check(ctx, dst)
}

// check runs SQLite's integrity check on the database at path.
func check(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlite backup: check %s: %w", path, err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("sqlite backup: check %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlite backup: %s fails its integrity check: %s", path, res)
	}
	return nil
}
