package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO ticket_notes (`+noteCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			n.ID, n.ConversationID, n.TicketID, n.AuthorID, n.Text, n.ProviderID, n.CreatedAt); err != nil {
			return err
		}
		if audit == nil {
			return nil
		}
		return s.appendAudit(ctx, tx, audit)
	})
	return translate("create note", err)
}

func scanNote(row pgx.Row) (*tandem.Note, error) {
	var n tandem.Note
	if err := row.Scan(&n.ID, &n.ConversationID, &n.TicketID, &n.AuthorID, &n.Text, &n.ProviderID, &n.CreatedAt); err != nil {
		return nil, err
	}
	n.CreatedAt = utc(n.CreatedAt)
	return &n, nil
}

// ListCustomerNotes returns the notes on the customer's conversations, oldest first.
func (s *Store) ListCustomerNotes(ctx context.Context, customerID string, f storage.MessageFilter) ([]tandem.Note, error) {
	where := `conversation_id IN (SELECT id FROM conversations WHERE customer_id = $1)`
	args := []any{customerID}
	if !f.Since.IsZero() {
		args = append(args, dbTime(f.Since))
		where += fmt.Sprintf(` AND created_at >= $%d`, len(args))
	}
	q := `SELECT ` + noteCols + ` FROM ticket_notes WHERE ` + where + ` ORDER BY created_at, id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q = `SELECT ` + noteCols + ` FROM (SELECT ` + noteCols + ` FROM ticket_notes WHERE ` + where +
			fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d) n ORDER BY created_at, id`, len(args))
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list customer notes", err)
	}
	out, err := collect(rows, scanNote)
	return out, translate("list customer notes", err)
}

// RedactNotes redacts the text of up to limit notes created before `before`; concurrent
// sweeps take disjoint rows.
func (s *Store) RedactNotes(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error) {
	if limit < 1 || redact == nil {
		return 0, tandem.Errorf(tandem.EINVALID, "redact notes: a positive limit and a redact function are required")
	}
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, text FROM ticket_notes WHERE redacted_at IS NULL AND created_at < $1
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`, dbTime(before), limit)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		now := s.now()
		var id, text string
		n = 0
		_, err = pgx.ForEachRow(rows, []any{&id, &text}, func() error {
			b.Queue(`UPDATE ticket_notes SET text = $1, redacted_at = $2 WHERE id = $3`, redact(text), now, id)
			n++
			return nil
		})
		if err != nil || n == 0 {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, translate("redact notes", err)
	}
	return n, nil
}
