package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem/storage"
)

// takeAttemptSQL is storage.AttemptLimit.Take as one statement: a new key is inserted
// (always allowed), a known one updated only while its bucket has room. The conflicting
// row is locked and its latest version checked, so concurrent attempts on any replica
// are each counted once. $2 now, $3 Every and $4 Burst×Every in microseconds.
const takeAttemptSQL = `INSERT INTO signin_attempts AS a (key, full_at) VALUES ($1, $2::timestamptz + $3::bigint * interval '1 microsecond')
	ON CONFLICT (key) DO UPDATE SET full_at = greatest(a.full_at, $2::timestamptz) + $3::bigint * interval '1 microsecond'
	WHERE greatest(a.full_at, $2::timestamptz) + $3::bigint * interval '1 microsecond' <= $2::timestamptz + $4::bigint * interval '1 microsecond'
	RETURNING full_at`

// pruneAttemptsSQL deletes a batch of long-full buckets; rows another writer holds are
// skipped, so concurrent writers neither wait nor deadlock on each other's deletes.
const pruneAttemptsSQL = `DELETE FROM signin_attempts WHERE key IN (
	SELECT key FROM signin_attempts WHERE full_at < $1 ORDER BY full_at LIMIT 100 FOR UPDATE SKIP LOCKED)`

// TakeSignInAttempt counts an attempt for key when lim allows it (storage.SignInStore).
func (s *Store) TakeSignInAttempt(ctx context.Context, key string, lim storage.AttemptLimit, now time.Time) (bool, time.Duration, error) {
	if err := lim.Validate(); err != nil {
		return false, 0, translate("take sign-in attempt", err)
	}
	now = dbTime(now)
	if _, err := s.pool.Exec(ctx, pruneAttemptsSQL, now.Add(-storage.SignInPruneAfter)); err != nil {
		return false, 0, translate("take sign-in attempt", err)
	}
	every := lim.Every.Microseconds()
	var full time.Time
	err := s.pool.QueryRow(ctx, takeAttemptSQL, key, now, every, every*int64(lim.Burst)).Scan(&full)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, translate("take sign-in attempt", err)
	}
	// Refused: the wait is read from the bucket as it is now.
	if err := s.pool.QueryRow(ctx, `SELECT full_at FROM signin_attempts WHERE key = $1`, key).Scan(&full); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, translate("take sign-in attempt", err)
	}
	_, _, wait := lim.Take(utc(full), now)
	return false, wait, nil
}
