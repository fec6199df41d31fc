package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const deliveryCols = `message_id, bot_id, channel, recipient, reply, status, attempts, next_at, last_error, provider_id, created_at, updated_at`

func scanDelivery(row pgx.Row) (*tandem.Delivery, error) {
	var d tandem.Delivery
	var reply []byte
	if err := row.Scan(&d.MessageID, &d.BotID, &d.Channel, &d.To, &reply, &d.Status, &d.Attempts, &d.NextAt,
		&d.LastError, &d.ProviderID, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(reply, &d.Reply); err != nil {
		return nil, fmt.Errorf("delivery %s reply: %w", d.MessageID, err)
	}
	d.NextAt, d.CreatedAt, d.UpdatedAt = d.NextAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// insertDeliveriesSQL inserts a batch given as parallel arrays; a message that already has
// a delivery keeps it.
const insertDeliveriesSQL = `INSERT INTO deliveries (message_id, bot_id, channel, recipient, reply, status, attempts, next_at, created_at, updated_at)
	SELECT m, b, c, r, p::jsonb, 'pending', 0, $6, $6, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t (m, b, c, r, p)
	ON CONFLICT (message_id) DO NOTHING`

// deliveryArgs prepares ds for insertDeliveriesSQL, setting the fields the store assigns.
func (s *Store) deliveryArgs(ds []*tandem.Delivery) ([]any, error) {
	now := s.now()
	ids, bots, chans, tos, replies := make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		if d.MessageID == "" || d.Channel == "" || d.To == "" {
			return nil, tandem.Errorf(tandem.EINVALID, "a delivery needs a message, a channel and a recipient")
		}
		reply, err := json.Marshal(d.Reply)
		if err != nil {
			return nil, err
		}
		d.Status, d.Attempts, d.NextAt, d.CreatedAt, d.UpdatedAt = tandem.DeliveryPending, 0, now, now, now
		ids[i], bots[i], chans[i], tos[i], replies[i] = d.MessageID, d.BotID, string(d.Channel), d.To, string(reply)
	}
	return []any{ids, bots, chans, tos, replies, now}, nil
}

// EnqueueDeliveries stores pending deliveries, due now; existing ones are left unchanged.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []*tandem.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	args, err := s.deliveryArgs(ds)
	if err != nil {
		return translate("enqueue deliveries", err)
	}
	_, err = s.pool.Exec(ctx, insertDeliveriesSQL, args...)
	return translate("enqueue deliveries", err)
}

// ClaimDeliveries leases up to limit due deliveries. SKIP LOCKED lets the workers of
// several replicas claim at once without waiting on each other's rows.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]tandem.Delivery, error) {
	if limit <= 0 {
		return nil, translate("claim deliveries", tandem.Errorf(tandem.EINVALID, "limit must be positive"))
	}
	now = dbTime(now)
	rows, err := s.pool.Query(ctx, `UPDATE deliveries SET attempts = attempts + 1, next_at = $2, updated_at = $1
		WHERE message_id IN (SELECT message_id FROM deliveries WHERE status = 'pending' AND next_at <= $1
			ORDER BY next_at, message_id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryCols, now, now.Add(lease), limit)
	if err != nil {
		return nil, translate("claim deliveries", err)
	}
	out, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, translate("claim deliveries", err)
	}
	slices.SortFunc(out, func(a, b tandem.Delivery) int { return strings.Compare(a.MessageID, b.MessageID) })
	return out, nil
}

// UpdateDelivery sets the non-nil fields.
func (s *Store) UpdateDelivery(ctx context.Context, messageID string, upd storage.DeliveryUpdate) (*tandem.Delivery, error) {
	args := []any{messageID, s.now()}
	set := []string{"updated_at = $2"}
	add := func(col string, v any) {
		args = append(args, v)
		set = append(set, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if upd.Status != nil {
		add("status", *upd.Status)
	}
	if upd.Attempts != nil {
		add("attempts", *upd.Attempts)
	}
	if upd.NextAt != nil {
		add("next_at", dbTime(*upd.NextAt))
	}
	if upd.LastError != nil {
		add("last_error", *upd.LastError)
	}
	if upd.ProviderID != nil {
		add("provider_id", *upd.ProviderID)
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `UPDATE deliveries SET `+strings.Join(set, ", ")+
		` WHERE message_id = $1 RETURNING `+deliveryCols, args...))
	if err == pgx.ErrNoRows {
		return nil, translate("update delivery", notFound("delivery", messageID))
	}
	return d, translate("update delivery", err)
}

// FindDelivery returns the delivery of a message.
func (s *Store) FindDelivery(ctx context.Context, messageID string) (*tandem.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE message_id = $1`, messageID))
	if err == pgx.ErrNoRows {
		return nil, translate("find delivery", notFound("delivery", messageID))
	}
	return d, translate("find delivery", err)
}

// ListDeliveries returns matching deliveries, oldest first.
func (s *Store) ListDeliveries(ctx context.Context, f storage.DeliveryFilter) ([]tandem.Delivery, error) {
	var where []string
	var args []any
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	if f.BotID != "" {
		args = append(args, f.BotID)
		where = append(where, fmt.Sprintf("bot_id = $%d", len(args)))
	}
	if f.Channel != "" {
		args = append(args, f.Channel)
		where = append(where, fmt.Sprintf("channel = $%d", len(args)))
	}
	if f.To != "" {
		args = append(args, f.To)
		where = append(where, fmt.Sprintf("recipient = $%d", len(args)))
	}
	if f.MessageIDs != nil {
		args = append(args, f.MessageIDs)
		where = append(where, fmt.Sprintf("message_id = ANY($%d)", len(args)))
	}
	q := `SELECT ` + deliveryCols + ` FROM deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY created_at, message_id LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list deliveries", err)
	}
	out, err := collect(rows, scanDelivery)
	return out, translate("list deliveries", err)
}

// ReleaseHeldDeliveries makes a recipient's held deliveries pending, due at now. One
// UPDATE: a row released by a concurrent caller no longer matches status 'held'.
func (s *Store) ReleaseHeldDeliveries(ctx context.Context, botID string, ch tandem.Channel, to string, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_at = $1, updated_at = $2
		WHERE status = 'held' AND bot_id = $3 AND channel = $4 AND recipient = $5`,
		dbTime(now), s.now(), botID, string(ch), to)
	if err != nil {
		return 0, translate("release held deliveries", err)
	}
	return int(tag.RowsAffected()), nil
}
