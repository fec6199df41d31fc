package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const credentialCols = `id, password_hash, password_changed_at, session_epoch`

func scanCredentials(row interface{ Scan(...any) error }) (*storage.AgentCredentials, error) {
	var c storage.AgentCredentials
	var changed sql.NullInt64
	if err := row.Scan(&c.AgentID, &c.PasswordHash, &changed, &c.SessionEpoch); err != nil {
		return nil, err
	}
	if changed.Valid {
		t := fromMicros(changed.Int64)
		c.PasswordChangedAt = &t
	}
	return &c, nil
}

// FindAgentCredentials returns the password state of agent id; unknown id: ENOTFOUND.
func (s *Store) FindAgentCredentials(ctx context.Context, id string) (*storage.AgentCredentials, error) {
	c, err := scanCredentials(s.r.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM agents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find agent credentials", notFound("agent", id))
	}
	if err != nil {
		return nil, translate("find agent credentials", err)
	}
	return c, nil
}

// SetAgentPassword replaces the hash when it still is oldHash (else ECONFLICT), records at
// and bumps the session epoch; unknown id: ENOTFOUND.
func (s *Store) SetAgentPassword(ctx context.Context, id, oldHash, newHash string, at time.Time) (*storage.AgentCredentials, error) {
	var c *storage.AgentCredentials
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanCredentials(tx.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM agents WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("agent", id)
		}
		if err != nil {
			return err
		}
		if cur.PasswordHash != oldHash {
			return tandem.Errorf(tandem.ECONFLICT, "the password was changed meanwhile")
		}
		c, err = scanCredentials(tx.QueryRowContext(ctx, `UPDATE agents SET password_hash = ?, password_changed_at = ?,
			session_epoch = session_epoch + 1 WHERE id = ? RETURNING `+credentialCols, newHash, dbTime(at).UnixMicro(), id))
		return err
	})
	if err != nil {
		return nil, translate("set agent password", err)
	}
	return c, nil
}

// RevokeAgentSessions bumps the agent's session epoch; unknown id: ENOTFOUND.
func (s *Store) RevokeAgentSessions(ctx context.Context, id string) (*storage.AgentCredentials, error) {
	var c *storage.AgentCredentials
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCredentials(tx.QueryRowContext(ctx, `UPDATE agents SET session_epoch = session_epoch + 1
			WHERE id = ? RETURNING `+credentialCols, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("agent", id)
		}
		return err
	})
	if err != nil {
		return nil, translate("revoke agent sessions", err)
	}
	return c, nil
}
