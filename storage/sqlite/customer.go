package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const customerCols = `id, display_name, profile, created_at, updated_at`

func scanCustomer(row interface{ Scan(...any) error }) (*tandem.Customer, error) {
	var c tandem.Customer
	var profile string
	var created, updated int64
	if err := row.Scan(&c.ID, &c.DisplayName, &profile, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(profile), &c.Profile); err != nil {
		return nil, fmt.Errorf("decode profile: %w", err)
	}
	if c.Profile == nil {
		c.Profile = map[string]string{}
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

const identityCols = `id, customer_id, channel, external_id, verified, created_at`

func scanIdentity(row interface{ Scan(...any) error }) (*tandem.Identity, error) {
	var i tandem.Identity
	var created int64
	if err := row.Scan(&i.ID, &i.CustomerID, &i.Channel, &i.ExternalID, &i.Verified, &created); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMicros(created)
	return &i, nil
}

// ResolveIdentity returns the customer and identity for (channel, externalID), creating
// both when new. The lookup runs on the read pool; creation runs on the single writer, which
// re-checks, so concurrent callers get the same customer.
func (s *Store) ResolveIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, error) {
	if channel == "" || externalID == "" {
		return nil, nil, tandem.Errorf(tandem.EINVALID, "channel and external id are required")
	}
	if c, i, ok := s.cache.identity(channel, externalID); ok {
		return c, i, nil
	}
	gen := s.cache.generation()
	c, i, err := s.lookupIdentity(ctx, nil, channel, externalID)
	if err == nil {
		s.cache.putIdentity(gen, c, i)
		return c, i, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, translate("resolve identity", err)
	}
	err = s.writeTxThen(ctx, func(tx *sql.Tx) error {
		c, i, err = s.lookupIdentity(ctx, tx, channel, externalID)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := s.now()
		c = &tandem.Customer{ID: newID(), Profile: map[string]string{}, CreatedAt: now, UpdatedAt: now}
		if err := insertCustomer(ctx, s, tx, c); err != nil {
			return err
		}
		i = &tandem.Identity{ID: newID(), CustomerID: c.ID, Channel: channel, ExternalID: externalID, CreatedAt: now}
		st, err := s.wstmt(ctx, tx, insertIdentitySQL)
		if err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, i.ID, i.CustomerID, i.Channel, i.ExternalID, i.Verified, i.CreatedAt.UnixMicro())
		return err
	}, func() { s.cache.createdIdentity(c, i) })
	if err != nil {
		return nil, nil, translate("resolve identity", err)
	}
	return c, i, nil
}

const (
	insertIdentitySQL = `INSERT INTO identities (` + identityCols + `) VALUES (?, ?, ?, ?, ?, ?)`
	insertCustomerSQL = `INSERT INTO customers (` + customerCols + `) VALUES (?, ?, ?, ?, ?)`
)

const lookupIdentitySQL = `SELECT c.id, c.display_name, c.profile, c.created_at, c.updated_at,
	i.id, i.customer_id, i.channel, i.external_id, i.verified, i.created_at
	FROM identities i JOIN customers c ON c.id = i.customer_id
	WHERE i.channel = ? AND i.external_id = ?`

func (s *Store) lookupIdentity(ctx context.Context, tx *sql.Tx, channel tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, error) {
	var st *sql.Stmt
	var err error
	if tx == nil {
		st, err = s.rstmt(ctx, lookupIdentitySQL)
	} else {
		st, err = s.wstmt(ctx, tx, lookupIdentitySQL)
	}
	if err != nil {
		return nil, nil, err
	}
	var c tandem.Customer
	var i tandem.Identity
	var profile string
	var cc, cu, ic int64
	err = st.QueryRowContext(ctx, channel, externalID).Scan(&c.ID, &c.DisplayName, &profile, &cc, &cu,
		&i.ID, &i.CustomerID, &i.Channel, &i.ExternalID, &i.Verified, &ic)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(profile), &c.Profile); err != nil {
		return nil, nil, fmt.Errorf("decode profile: %w", err)
	}
	if c.Profile == nil {
		c.Profile = map[string]string{}
	}
	c.CreatedAt, c.UpdatedAt, i.CreatedAt = fromMicros(cc), fromMicros(cu), fromMicros(ic)
	return &c, &i, nil
}

func insertCustomer(ctx context.Context, s *Store, tx *sql.Tx, c *tandem.Customer) error {
	profile, err := json.Marshal(c.Profile)
	if err != nil {
		return err
	}
	st, err := s.wstmt(ctx, tx, insertCustomerSQL)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, c.ID, c.DisplayName, string(profile), c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro())
	return err
}

// FindCustomerByID returns the customer or ENOTFOUND.
func (s *Store) FindCustomerByID(ctx context.Context, id string) (*tandem.Customer, error) {
	c, err := s.findCustomer(ctx, s.r, id)
	if err != nil {
		return nil, translate("find customer", err)
	}
	return c, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) findCustomer(ctx context.Context, q querier, id string) (*tandem.Customer, error) {
	c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("customer", id)
	}
	return c, err
}

// UpdateCustomer sets the non-nil fields and merges Profile (an empty value deletes a key).
func (s *Store) UpdateCustomer(ctx context.Context, id string, upd storage.CustomerUpdate) (*tandem.Customer, error) {
	var c *tandem.Customer
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.findCustomer(ctx, tx, id)
		if err != nil {
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
		profile, err := json.Marshal(c.Profile)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE customers SET display_name = ?, profile = ?, updated_at = ? WHERE id = ?`,
			c.DisplayName, string(profile), c.UpdatedAt.UnixMicro(), id)
		return err
	}, func() { s.cache.updatedCustomer(c) })
	if err != nil {
		return nil, translate("update customer", err)
	}
	return c, nil
}

// FindIdentity returns the identity for (channel, externalID) or ENOTFOUND.
func (s *Store) FindIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Identity, error) {
	i, err := scanIdentity(s.r.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities WHERE channel = ? AND external_id = ?`, channel, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("identity", string(channel)+":"+externalID)
	}
	if err != nil {
		return nil, translate("find identity", err)
	}
	return i, nil
}

// ListIdentities returns the customer's identities, oldest first.
func (s *Store) ListIdentities(ctx context.Context, customerID string) ([]tandem.Identity, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+identityCols+` FROM identities WHERE customer_id = ? ORDER BY created_at, id`, customerID)
	if err != nil {
		return nil, translate("list identities", err)
	}
	defer rows.Close()
	out := []tandem.Identity{}
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, translate("list identities", err)
		}
		out = append(out, *i)
	}
	return out, translate("list identities", rows.Err())
}

func (s *Store) findIdentityByID(ctx context.Context, q querier, id string) (*tandem.Identity, error) {
	i, err := scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("identity", id)
	}
	return i, err
}

// moveIdentity moves identity i (currently owned by i.CustomerID) to customer `to` with
// its conversations: all of the old customer's conversations when i was its only identity,
// otherwise those whose channel is i's channel. A moved not-closed conversation whose bot
// `to` already has a not-closed conversation with would make `to` two: the older of the
// two (updated_at, then id) is closed first, since the unique index is checked row by row.
// It returns the ids of the conversations it closed.
func (s *Store) moveIdentity(ctx context.Context, tx *sql.Tx, i *tandem.Identity, to string, verified bool) ([]string, error) {
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM identities WHERE customer_id = ? AND id <> ?`, i.CustomerID, i.ID).Scan(&others); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE identities SET customer_id = ?, verified = ? WHERE id = ?`, to, verified, i.ID); err != nil {
		return nil, err
	}
	// The moved conversations: all of the old customer's, or those on i's channel.
	moved, args := `customer_id = ?`, []any{i.CustomerID}
	if others > 0 {
		moved, args = `customer_id = ? AND channel = ?`, []any{i.CustomerID, i.Channel}
	}
	now := s.now().UnixMicro()
	// Of two open conversations with one bot, the one with a human is kept (the agent keeps
	// the customer), else the newer.
	rows, err := tx.QueryContext(ctx, `UPDATE conversations SET status = 'closed', updated_at = ? WHERE id IN (
		SELECT CASE
			WHEN (m.status = 'handoff') <> (t.status = 'handoff') THEN CASE WHEN m.status = 'handoff' THEN t.id ELSE m.id END
			WHEN m.updated_at < t.updated_at OR (m.updated_at = t.updated_at AND m.id < t.id) THEN m.id ELSE t.id END
		FROM (SELECT id, bot_id, status, updated_at FROM conversations WHERE `+moved+` AND status <> 'closed') m
		JOIN conversations t ON t.bot_id = m.bot_id AND t.customer_id = ? AND t.status <> 'closed') RETURNING id`,
		append(append([]any{now}, args...), to)...)
	if err != nil {
		return nil, fmt.Errorf("close the older of two open conversations: %w", err)
	}
	var closed []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		closed = append(closed, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("close the older of two open conversations: %w", err)
	}
	slices.Sort(closed)
	// A closed conversation's handoff ends with it: no agent could answer it.
	for _, id := range closed {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'closed', closed_at = ? WHERE conversation_id = ? AND status IN ('queued', 'claimed')`, now, id); err != nil {
			return nil, fmt.Errorf("close the tickets of a closed conversation: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE conversations SET customer_id = ?, updated_at = ? WHERE `+moved, append([]any{to, now}, args...)...)
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
	var moved *tandem.Identity
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		moved = nil
		i, err := s.findIdentityByID(ctx, tx, identityID)
		if err != nil {
			return err
		}
		if i.CustomerID == customerID {
			return nil
		}
		if _, err := s.findCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		closed, err := s.moveIdentity(ctx, tx, i, customerID, true)
		if err != nil {
			return err
		}
		moved = i
		return s.appendAudit(ctx, tx, &tandem.AuditEntry{Actor: actor, Action: "identity.link", Subject: identityID,
			Detail: mergeDetail(i, customerID, closed)})
	}, func() {
		if moved != nil {
			s.cache.movedIdentity(moved)
		}
	})
	return translate("link identity", err)
}

// UnlinkIdentity gives the identity a new customer of its own (unverified), moving its
// conversations the same way LinkIdentity does, with an "identity.unlink" audit entry.
func (s *Store) UnlinkIdentity(ctx context.Context, identityID, actor string) (*tandem.Customer, error) {
	var c *tandem.Customer
	var moved *tandem.Identity
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		i, err := s.findIdentityByID(ctx, tx, identityID)
		if err != nil {
			return err
		}
		now := s.now()
		c = &tandem.Customer{ID: newID(), Profile: map[string]string{}, CreatedAt: now, UpdatedAt: now}
		if err := insertCustomer(ctx, s, tx, c); err != nil {
			return err
		}
		// The new customer has no conversation, so nothing is closed.
		closed, err := s.moveIdentity(ctx, tx, i, c.ID, false)
		if err != nil {
			return err
		}
		moved = i
		return s.appendAudit(ctx, tx, &tandem.AuditEntry{Actor: actor, Action: "identity.unlink", Subject: identityID,
			Detail: mergeDetail(i, c.ID, closed)})
	}, func() { s.cache.movedIdentity(moved) })
	if err != nil {
		return nil, translate("unlink identity", err)
	}
	return c, nil
}
