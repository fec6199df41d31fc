package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const credentialCols = `id, password_hash, password_changed_at, session_epoch`

func scanCredentials(row pgx.Row) (*storage.AgentCredentials, error) {
	var c storage.AgentCredentials
	if err := row.Scan(&c.AgentID, &c.PasswordHash, &c.PasswordChangedAt, &c.SessionEpoch); err != nil {
		return nil, err
	}
	if c.PasswordChangedAt != nil {
		t := utc(*c.PasswordChangedAt)
		c.PasswordChangedAt = &t
	}
	return &c, nil
}

// FindAgentCredentials returns the password state of agent id; unknown id: ENOTFOUND.
func (s *Store) FindAgentCredentials(ctx context.Context, id string) (*storage.AgentCredentials, error) {
	c, err := scanCredentials(s.pool.QueryRow(ctx, `SELECT `+credentialCols+` FROM agents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find agent credentials", notFound("agent", id))
	}
	if err != nil {
		return nil, translate("find agent credentials", err)
	}
	return c, nil
}

// SetAgentPassword replaces the hash when it still is oldHash (else ECONFLICT), records at
// and bumps the session epoch; unknown id: ENOTFOUND. The compare and the write are one
// statement, so of two concurrent uses of one link only one succeeds.
func (s *Store) SetAgentPassword(ctx context.Context, id, oldHash, newHash string, at time.Time) (*storage.AgentCredentials, error) {
	c, err := scanCredentials(s.pool.QueryRow(ctx, `UPDATE agents SET password_hash = $1, password_changed_at = $2,
		session_epoch = session_epoch + 1 WHERE id = $3 AND password_hash = $4 RETURNING `+credentialCols, newHash, dbTime(at), id, oldHash))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, ferr := s.FindAgentCredentials(ctx, id); ferr != nil {
			return nil, ferr
		}
		return nil, translate("set agent password", tandem.Errorf(tandem.ECONFLICT, "the password was changed meanwhile"))
	}
	if err != nil {
		return nil, translate("set agent password", err)
	}
	return c, nil
}

// RevokeAgentSessions bumps the agent's session epoch; unknown id: ENOTFOUND.
func (s *Store) RevokeAgentSessions(ctx context.Context, id string) (*storage.AgentCredentials, error) {
	c, err := scanCredentials(s.pool.QueryRow(ctx, `UPDATE agents SET session_epoch = session_epoch + 1
		WHERE id = $1 RETURNING `+credentialCols, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("revoke agent sessions", notFound("agent", id))
	}
	if err != nil {
		return nil, translate("revoke agent sessions", err)
	}
	return c, nil
}
