package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const deliveryCols = `message_id, bot_id, channel, recipient, reply, status, attempts, next_at, last_error, provider_id, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*tandem.Delivery, error) {
	var d tandem.Delivery
	var reply string
	var next, created, updated int64
	if err := row.Scan(&d.MessageID, &d.BotID, &d.Channel, &d.To, &reply, &d.Status, &d.Attempts, &next,
		&d.LastError, &d.ProviderID, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(reply), &d.Reply); err != nil {
		return nil, fmt.Errorf("delivery %s reply: %w", d.MessageID, err)
	}
	d.NextAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
	return &d, nil
}

// deliveryRows encodes ds for insertDeliveries, outside the single writer, setting the
// fields the store assigns.
func (s *Store) deliveryRows(ds []*tandem.Delivery) ([][]any, error) {
	now := s.now()
	rows := make([][]any, len(ds))
	for i, d := range ds {
		if d.MessageID == "" || d.Channel == "" || d.To == "" {
			return nil, tandem.Errorf(tandem.EINVALID, "a delivery needs a message, a channel and a recipient")
		}
		reply, err := json.Marshal(d.Reply)
		if err != nil {
			return nil, err
		}
		d.Status, d.Attempts, d.NextAt, d.CreatedAt, d.UpdatedAt = tandem.DeliveryPending, 0, now, now, now
		rows[i] = []any{d.MessageID, d.BotID, string(d.Channel), d.To, string(reply), now.UnixMicro()}
	}
	return rows, nil
}

func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	st, err := s.wstmt(ctx, tx, `INSERT INTO deliveries (message_id, bot_id, channel, recipient, reply, status, attempts, next_at, created_at, updated_at)
		VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6, ?6) ON CONFLICT (message_id) DO NOTHING`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	return nil
}

// EnqueueDeliveries stores pending deliveries, due now; existing ones are left unchanged.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []*tandem.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows, err := s.deliveryRows(ds)
	if err != nil {
		return translate("enqueue deliveries", err)
	}
	err = s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertDeliveries(ctx, tx, rows) })
	return translate("enqueue deliveries", err)
}

// ClaimDeliveries leases up to limit due deliveries. The single writer makes the select
// and the update one step for every claimer in this process, the only one using the file.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]tandem.Delivery, error) {
	if limit <= 0 {
		return nil, translate("claim deliveries", tandem.Errorf(tandem.EINVALID, "limit must be positive"))
	}
	now = dbTime(now)
	var out []tandem.Delivery
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, next_at = ?2, updated_at = ?1
			WHERE message_id IN (SELECT message_id FROM deliveries WHERE status = 'pending' AND next_at <= ?1
				ORDER BY next_at, message_id LIMIT ?3)
			RETURNING `+deliveryCols, now.UnixMicro(), now.Add(lease).UnixMicro(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, *d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, translate("claim deliveries", err)
	}
	return sortDeliveries(out), nil
}

func sortDeliveries(ds []tandem.Delivery) []tandem.Delivery {
	if ds == nil {
		return []tandem.Delivery{}
	}
	slices.SortFunc(ds, func(a, b tandem.Delivery) int { return strings.Compare(a.MessageID, b.MessageID) })
	return ds
}

// UpdateDelivery sets the non-nil fields.
func (s *Store) UpdateDelivery(ctx context.Context, messageID string, upd storage.DeliveryUpdate) (*tandem.Delivery, error) {
	set := []string{"updated_at = ?"}
	args := []any{s.now().UnixMicro()}
	add := func(col string, v any) {
		set, args = append(set, col+" = ?"), append(args, v)
	}
	if upd.Status != nil {
		add("status", string(*upd.Status))
	}
	if upd.Attempts != nil {
		add("attempts", *upd.Attempts)
	}
	if upd.NextAt != nil {
		add("next_at", dbTime(*upd.NextAt).UnixMicro())
	}
	if upd.LastError != nil {
		add("last_error", *upd.LastError)
	}
	if upd.ProviderID != nil {
		add("provider_id", *upd.ProviderID)
	}
	args = append(args, messageID)
	var d *tandem.Delivery
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET `+strings.Join(set, ", ")+
			` WHERE message_id = ? RETURNING `+deliveryCols, args...))
		if err == sql.ErrNoRows {
			return notFound("delivery", messageID)
		}
		return err
	})
	return d, translate("update delivery", err)
}

// FindDelivery returns the delivery of a message.
func (s *Store) FindDelivery(ctx context.Context, messageID string) (*tandem.Delivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE message_id = ?`, messageID))
	if err == sql.ErrNoRows {
		return nil, translate("find delivery", notFound("delivery", messageID))
	}
	return d, translate("find delivery", err)
}

// ListDeliveries returns matching deliveries, oldest first.
func (s *Store) ListDeliveries(ctx context.Context, f storage.DeliveryFilter) ([]tandem.Delivery, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.BotID != "" {
		where, args = append(where, "bot_id = ?"), append(args, f.BotID)
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, string(f.Channel))
	}
	if f.To != "" {
		where, args = append(where, "recipient = ?"), append(args, f.To)
	}
	if f.MessageIDs != nil {
		// A JSON array keeps the statement's text the same for any number of ids.
		ids, err := json.Marshal(f.MessageIDs)
		if err != nil {
			return nil, translate("list deliveries", err)
		}
		where, args = append(where, "message_id IN (SELECT value FROM json_each(?))"), append(args, string(ids))
	}
	q := `SELECT ` + deliveryCols + ` FROM deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY created_at, message_id LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("list deliveries", err)
	}
	defer rows.Close()
	out := []tandem.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, translate("list deliveries", err)
		}
		out = append(out, *d)
	}
	return out, translate("list deliveries", rows.Err())
}

// ReleaseHeldDeliveries makes a recipient's held deliveries pending, due at now.
func (s *Store) ReleaseHeldDeliveries(ctx context.Context, botID string, ch tandem.Channel, to string, now time.Time) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_at = ?1, updated_at = ?2
			WHERE status = 'held' AND bot_id = ?3 AND channel = ?4 AND recipient = ?5`,
			dbTime(now).UnixMicro(), s.now().UnixMicro(), botID, string(ch), to)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), translate("release held deliveries", err)
}
