package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const noteCols = `id, conversation_id, ticket_id, author_id, text, provider_id, created_at`

// CreateNote stores an agent's note with its audit entry in one transaction.
func (s *Store) CreateNote(ctx context.Context, n *tandem.Note, audit *tandem.AuditEntry) error {
	if n.ID == "" {
		n.ID = newID()
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	n.CreatedAt = dbTime(n.CreatedAt)
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_notes (`+noteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.ConversationID, n.TicketID, n.AuthorID, n.Text, n.ProviderID, n.CreatedAt.UnixMicro()); err != nil {
			return err
		}
		if audit == nil {
			return nil
		}
		return s.appendAudit(ctx, tx, audit)
	})
	return translate("create note", err)
}

// ListCustomerNotes returns the notes on the customer's conversations, oldest first.
func (s *Store) ListCustomerNotes(ctx context.Context, customerID string, f storage.MessageFilter) ([]tandem.Note, error) {
	where := `conversation_id IN (SELECT id FROM conversations WHERE customer_id = ?)`
	args := []any{customerID}
	if !f.Since.IsZero() {
		where += ` AND created_at >= ?`
		args = append(args, dbTime(f.Since).UnixMicro())
	}
	q := `SELECT ` + noteCols + ` FROM ticket_notes WHERE ` + where + ` ORDER BY created_at, id`
	if f.Limit > 0 {
		q = `SELECT * FROM (SELECT ` + noteCols + ` FROM ticket_notes WHERE ` + where +
			` ORDER BY created_at DESC, id DESC LIMIT ?) ORDER BY created_at, id`
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("list customer notes", err)
	}
	out := []tandem.Note{}
	for rows.Next() {
		var n tandem.Note
		var at int64
		if err := rows.Scan(&n.ID, &n.ConversationID, &n.TicketID, &n.AuthorID, &n.Text, &n.ProviderID, &at); err != nil {
			rows.Close()
			return nil, translate("list customer notes", err)
		}
		n.CreatedAt = fromMicros(at)
		out = append(out, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, translate("list customer notes", err)
	}
	return out, nil
}

// RedactNotes redacts the text of up to limit notes created before `before`.
func (s *Store) RedactNotes(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error) {
	if limit < 1 || redact == nil {
		return 0, tandem.Errorf(tandem.EINVALID, "redact notes: a positive limit and a redact function are required")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, text FROM ticket_notes WHERE redacted_at IS NULL AND created_at < ?
		ORDER BY created_at LIMIT ?`, dbTime(before).UnixMicro(), limit)
	if err != nil {
		return 0, translate("redact notes", err)
	}
	type note struct{ id, text string }
	var ns []note
	for rows.Next() {
		var n note
		if err := rows.Scan(&n.id, &n.text); err != nil {
			rows.Close()
			return 0, translate("redact notes", err)
		}
		ns = append(ns, note{n.id, redact(n.text)})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, translate("redact notes", err)
	}
	n := 0
	now := s.now().UnixMicro()
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, r := range ns {
			// Redacted or deleted meanwhile: nothing to do.
			res, err := tx.ExecContext(ctx, `UPDATE ticket_notes SET text = ?, redacted_at = ? WHERE id = ? AND redacted_at IS NULL`, r.text, now, r.id)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err == nil && k > 0 {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, translate("redact notes", err)
	}
	return n, nil
}
