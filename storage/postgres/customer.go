package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const customerCols = `id, display_name, profile, created_at, updated_at`

func scanCustomer(row pgx.Row) (*tandem.Customer, error) {
	var c tandem.Customer
	if err := row.Scan(&c.ID, &c.DisplayName, &c.Profile, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	if c.Profile == nil {
		c.Profile = map[string]string{}
	}
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	return &c, nil
}

const identityCols = `id, customer_id, channel, external_id, verified, created_at`

func scanIdentity(row pgx.Row) (*tandem.Identity, error) {
	var i tandem.Identity
	if err := row.Scan(&i.ID, &i.CustomerID, &i.Channel, &i.ExternalID, &i.Verified, &i.CreatedAt); err != nil {
		return nil, err
	}
	i.CreatedAt = utc(i.CreatedAt)
	return &i, nil
}

const lookupIdentitySQL = `SELECT c.id, c.display_name, c.profile, c.created_at, c.updated_at,
	i.id, i.customer_id, i.channel, i.external_id, i.verified, i.created_at
	FROM identities i JOIN customers c ON c.id = i.customer_id
	WHERE i.channel = $1 AND i.external_id = $2`

func lookupIdentity(ctx context.Context, q db, channel tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, error) {
	var c tandem.Customer
	var i tandem.Identity
	err := q.QueryRow(ctx, lookupIdentitySQL, channel, externalID).Scan(&c.ID, &c.DisplayName, &c.Profile, &c.CreatedAt, &c.UpdatedAt,
		&i.ID, &i.CustomerID, &i.Channel, &i.ExternalID, &i.Verified, &i.CreatedAt)
	if err != nil {
		return nil, nil, err
	}
	if c.Profile == nil {
		c.Profile = map[string]string{}
	}
	c.CreatedAt, c.UpdatedAt, i.CreatedAt = utc(c.CreatedAt), utc(c.UpdatedAt), utc(i.CreatedAt)
	return &c, &i, nil
}

// ResolveIdentity returns the customer and identity for (channel, externalID), creating
// both when new. A concurrent creator of the same identity wins through the unique key
// (ON CONFLICT DO NOTHING waits for it); the loser rolls back its customer and reads.
func (s *Store) ResolveIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, error) {
	if channel == "" || externalID == "" {
		return nil, nil, tandem.Errorf(tandem.EINVALID, "channel and external id are required")
	}
	c, i, err := lookupIdentity(ctx, s.pool, channel, externalID)
	if err == nil {
		return c, i, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, translate("resolve identity", err)
	}
	errLost := errors.New("lost race")
	err = s.tx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		c = &tandem.Customer{ID: newID(), Profile: map[string]string{}, CreatedAt: now, UpdatedAt: now}
		if err := insertCustomer(ctx, tx, c); err != nil {
			return err
		}
		i = &tandem.Identity{ID: newID(), CustomerID: c.ID, Channel: channel, ExternalID: externalID, CreatedAt: now}
		tag, err := tx.Exec(ctx, `INSERT INTO identities (`+identityCols+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, external_id) DO NOTHING`,
			i.ID, i.CustomerID, i.Channel, i.ExternalID, i.Verified, i.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errLost
		}
		return nil
	})
	if errors.Is(err, errLost) {
		c, i, err = lookupIdentity(ctx, s.pool, channel, externalID)
	}
	if err != nil {
		return nil, nil, translate("resolve identity", err)
	}
	return c, i, nil
}

func insertCustomer(ctx context.Context, q db, c *tandem.Customer) error {
	_, err := q.Exec(ctx, `INSERT INTO customers (`+customerCols+`) VALUES ($1, $2, $3, $4, $5)`, c.ID, c.DisplayName, c.Profile, c.CreatedAt, c.UpdatedAt)
	return err
}

func findCustomer(ctx context.Context, q db, id string, lock bool) (*tandem.Customer, error) {
	sql := `SELECT ` + customerCols + ` FROM customers WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	c, err := scanCustomer(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("customer", id)
	}
	return c, err
}

// FindCustomerByID returns the customer or ENOTFOUND.
func (s *Store) FindCustomerByID(ctx context.Context, id string) (*tandem.Customer, error) {
	c, err := findCustomer(ctx, s.pool, id, false)
	if err != nil {
		return nil, translate("find customer", err)
	}
	return c, nil
}

// UpdateCustomer sets the non-nil fields and merges Profile (an empty value deletes a key).
func (s *Store) UpdateCustomer(ctx context.Context, id string, upd storage.CustomerUpdate) (*tandem.Customer, error) {
	var c *tandem.Customer
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = findCustomer(ctx, tx, id, true); err != nil {
			return err
		}
		if upd.DisplayName != nil {
			c.DisplayName = *upd.DisplayName
		}
		for k, v := range upd.Profile {
			if v == "" {
				delete(c.Profile, k)
			} else {
				c.Profile[k] = v
			}
		}
		c.UpdatedAt = s.now()
		_, err = tx.Exec(ctx, `UPDATE customers SET display_name = $1, profile = $2, updated_at = $3 WHERE id = $4`, c.DisplayName, c.Profile, c.UpdatedAt, id)
		return err
	})
	if err != nil {
		return nil, translate("update customer", err)
	}
	return c, nil
}

// FindIdentity returns the identity for (channel, externalID) or ENOTFOUND.
func (s *Store) FindIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Identity, error) {
	i, err := scanIdentity(s.pool.QueryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE channel = $1 AND external_id = $2`, channel, externalID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find identity", notFound("identity", string(channel)+":"+externalID))
	}
	if err != nil {
		return nil, translate("find identity", err)
	}
	return i, nil
}

// ListIdentities returns the customer's identities, oldest first.
func (s *Store) ListIdentities(ctx context.Context, customerID string) ([]tandem.Identity, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+identityCols+` FROM identities WHERE customer_id = $1 ORDER BY created_at, id`, customerID)
	if err != nil {
		return nil, translate("list identities", err)
	}
	out, err := collect(rows, scanIdentity)
	return out, translate("list identities", err)
}

// collect scans all rows with scan.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (*T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

func findIdentityByID(ctx context.Context, q db, id string) (*tandem.Identity, error) {
	i, err := scanIdentity(q.QueryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("identity", id)
	}
	return i, err
}

// moveIdentity moves identity i to customer `to` with its conversations: all of the old
// customer's when i was its only identity, otherwise those on i's channel. A moved
// not-closed conversation whose bot `to` already has a not-closed conversation with would
// make `to` two: the older of the two (updated_at, then id) is closed first, since the
// unique index is checked row by row. It returns the ids of the conversations it closed.
func (s *Store) moveIdentity(ctx context.Context, tx pgx.Tx, i *tandem.Identity, to string, verified bool) ([]string, error) {
	var others int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM identities WHERE customer_id = $1 AND id <> $2`, i.CustomerID, i.ID).Scan(&others); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE identities SET customer_id = $1, verified = $2 WHERE id = $3`, to, verified, i.ID); err != nil {
		return nil, err
	}
	// The moved conversations: all of the old customer's, or those on i's channel ($4 NULL
	// matches every channel).
	var channel *string
	if others > 0 {
		ch := string(i.Channel)
		channel = &ch
	}
	const moved = `customer_id = $3 AND ($4::text IS NULL OR channel = $4)`
	now := s.now()
	// Of two open conversations with one bot, the one with a human is kept (the agent keeps
	// the customer), else the newer.
	rows, err := tx.Query(ctx, `UPDATE conversations SET status = 'closed', updated_at = $1 WHERE id IN (
		SELECT CASE
			WHEN (m.status = 'handoff') <> (t.status = 'handoff') THEN CASE WHEN m.status = 'handoff' THEN t.id ELSE m.id END
			WHEN (m.updated_at, m.id) < (t.updated_at, t.id) THEN m.id ELSE t.id END
		FROM (SELECT id, bot_id, status, updated_at FROM conversations WHERE `+moved+` AND status <> 'closed') m
		JOIN conversations t ON t.bot_id = m.bot_id AND t.customer_id = $2 AND t.status <> 'closed') RETURNING id`,
		now, to, i.CustomerID, channel)
	if err != nil {
		return nil, fmt.Errorf("close the older of two open conversations: %w", err)
	}
	closed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("close the older of two open conversations: %w", err)
	}
	slices.Sort(closed)
	// A closed conversation's handoff ends with it: no agent could answer it.
	if len(closed) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'closed', closed_at = $1 WHERE conversation_id = ANY($2) AND status IN ('queued', 'claimed')`, now, closed); err != nil {
			return nil, fmt.Errorf("close the tickets of a closed conversation: %w", err)
		}
	}
	_, err = tx.Exec(ctx, `UPDATE conversations SET customer_id = $1, updated_at = $2 WHERE `+moved, to, now, i.CustomerID, channel)
	return closed, err
}

// mergeDetail is the audit detail of a link or unlink; closed lists the conversations it
// closed so the customer keeps one not-closed conversation per bot.
func mergeDetail(i *tandem.Identity, to string, closed []string) map[string]string {
	d := map[string]string{"from_customer": i.CustomerID, "to_customer": to, "channel": string(i.Channel)}
	if len(closed) > 0 {
		d["closed_conversations"] = strings.Join(closed, ",")
	}
	return d
}

// LinkIdentity moves a proven identity to customerID, marks it verified and moves its
// conversations (all of the old customer's when it was that customer's only identity,
// otherwise those on the identity's channel), with an "identity.link" audit entry.
func (s *Store) LinkIdentity(ctx context.Context, identityID, customerID, actor string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		i, err := findIdentityByID(ctx, tx, identityID)
		if err != nil {
			return err
		}
		if i.CustomerID == customerID {
			return nil
		}
		if _, err := findCustomer(ctx, tx, customerID, false); err != nil {
			return err
		}
		closed, err := s.moveIdentity(ctx, tx, i, customerID, true)
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &tandem.AuditEntry{Actor: actor, Action: "identity.link", Subject: identityID,
			Detail: mergeDetail(i, customerID, closed)})
	})
	return translate("link identity", err)
}

// UnlinkIdentity gives the identity a new customer of its own (unverified), moving its
// conversations the same way LinkIdentity does, with an "identity.unlink" audit entry.
func (s *Store) UnlinkIdentity(ctx context.Context, identityID, actor string) (*tandem.Customer, error) {
	var c *tandem.Customer
	err := s.tx(ctx, func(tx pgx.Tx) error {
		i, err := findIdentityByID(ctx, tx, identityID)
		if err != nil {
			return err
		}
		now := s.now()
		c = &tandem.Customer{ID: newID(), Profile: map[string]string{}, CreatedAt: now, UpdatedAt: now}
		if err := insertCustomer(ctx, tx, c); err != nil {
			return err
		}
		// The new customer has no conversation, so nothing is closed.
		closed, err := s.moveIdentity(ctx, tx, i, c.ID, false)
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &tandem.AuditEntry{Actor: actor, Action: "identity.unlink", Subject: identityID,
			Detail: mergeDetail(i, c.ID, closed)})
	})
	if err != nil {
		return nil, translate("unlink identity", err)
	}
	return c, nil
}
