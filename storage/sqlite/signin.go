package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tandemhq/tandem/storage"
)

// TakeSignInAttempt counts an attempt for key when lim allows it (storage.SignInStore).
// The single writer makes the read and the write one step.
func (s *Store) TakeSignInAttempt(ctx context.Context, key string, lim storage.AttemptLimit, now time.Time) (bool, time.Duration, error) {
	if err := lim.Validate(); err != nil {
		return false, 0, translate("take sign-in attempt", err)
	}
	now = dbTime(now)
	var ok bool
	var wait time.Duration
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_attempts WHERE key IN (
			SELECT key FROM signin_attempts WHERE full_at < ? ORDER BY full_at LIMIT 100)`, now.Add(-storage.SignInPruneAfter).UnixMicro()); err != nil {
			return err
		}
		var full time.Time
		var micros int64
		err := tx.QueryRowContext(ctx, `SELECT full_at FROM signin_attempts WHERE key = ?`, key).Scan(&micros)
		switch {
		case err == nil:
			full = fromMicros(micros)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var next time.Time
		if next, ok, wait = lim.Take(full, now); !ok {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO signin_attempts (key, full_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET full_at = excluded.full_at`, key, next.UnixMicro())
		return err
	})
	if err != nil {
		return false, 0, translate("take sign-in attempt", err)
	}
	return ok, wait, nil
}
