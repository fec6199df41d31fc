package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// DeleteClosedConversations deletes up to limit closed conversations inactive since before,
// oldest first; their messages (with their answer feedback), deliveries, tickets, notes and
// CSAT responses go with them through the schema's cascades. Rows another replica is
// deleting are skipped (SKIP LOCKED), so replicas take disjoint batches. The scan walks
// conversations_created, since a conversation's last activity is never before its creation.
func (s *Store) DeleteClosedConversations(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, tandem.Errorf(tandem.EINVALID, "delete closed conversations: limit must be positive")
	}
	b := dbTime(before)
	tag, err := s.pool.Exec(ctx, `DELETE FROM conversations WHERE id IN (
		SELECT id FROM conversations WHERE created_at < $1 AND status = 'closed' AND updated_at < $1
		ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, b, limit)
	if err != nil {
		return 0, translate("delete closed conversations", err)
	}
	return int(tag.RowsAffected()), nil
}

// RedactMessages redacts up to limit messages created before `before`, oldest first, in one
// transaction holding their rows (SKIP LOCKED: replicas take disjoint batches).
func (s *Store) RedactMessages(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error) {
	if limit < 1 || redact == nil {
		return 0, tandem.Errorf(tandem.EINVALID, "redact messages: a positive limit and a redact function are required")
	}
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.id, m.text, m.annotations, d.reply, f.comment FROM messages m
			LEFT JOIN deliveries d ON d.message_id = m.id LEFT JOIN message_feedback f ON f.message_id = m.id
			WHERE m.redacted_at IS NULL AND m.created_at < $1 ORDER BY m.created_at LIMIT $2
			FOR UPDATE OF m SKIP LOCKED`, dbTime(before), limit)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		now := s.now()
		var id, text string
		var ann *tandem.Annotations
		var reply []byte
		var comment *string
		_, err = pgx.ForEachRow(rows, []any{&id, &text, &ann, &reply, &comment}, func() error {
			if ann != nil {
				ann.Entities = nil // spans of the original text
			}
			b.Queue(`UPDATE messages SET text = $1, annotations = $2, redacted_at = $3 WHERE id = $4`, redact(text), ann, now, id)
			if reply != nil {
				var rep tandem.Reply
				if err := json.Unmarshal(reply, &rep); err != nil {
					return fmt.Errorf("decode reply of %s: %w", id, err)
				}
				rep = rep.Redacted(redact)
				b.Queue(`UPDATE deliveries SET reply = $1 WHERE message_id = $2`, rep, id)
			}
			if comment != nil && *comment != "" {
				b.Queue(`UPDATE message_feedback SET comment = $1 WHERE message_id = $2`, redact(*comment), id)
			}
			n++
			ann, reply, comment = nil, nil, nil
			return nil
		})
		if err != nil || n == 0 {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, translate("redact messages", err)
	}
	return n, nil
}

// countCustomerDataSQL counts a customer's rows ($1 is the customer id).
const countCustomerDataSQL = `SELECT
	(SELECT count(*) FROM identities WHERE customer_id = $1),
	(SELECT count(*) FROM conversations WHERE customer_id = $1),
	(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1),
	(SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
		JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1),
	(SELECT count(*) FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE c.customer_id = $1),
	(SELECT count(*) FROM ticket_notes n JOIN conversations c ON c.id = n.conversation_id WHERE c.customer_id = $1),
	(SELECT count(*) FROM csat_responses r JOIN tickets t ON t.id = r.ticket_id
		JOIN conversations c ON c.id = t.conversation_id WHERE c.customer_id = $1),
	(SELECT count(*) FROM message_feedback f JOIN conversations c ON c.id = f.conversation_id WHERE c.customer_id = $1)`

// countCustomerData counts the customer's rows; lock holds the customer row for the rest of
// the transaction, so no conversation or identity can be added to them meanwhile (those
// inserts wait for the row, then fail on the foreign key).
func countCustomerData(ctx context.Context, q db, id string, lock bool) (storage.Erasure, error) {
	if _, err := findCustomer(ctx, q, id, lock); err != nil {
		return storage.Erasure{}, err
	}
	e := storage.Erasure{CustomerID: id}
	err := q.QueryRow(ctx, countCustomerDataSQL, id).Scan(&e.Identities, &e.Conversations, &e.Messages,
		&e.Deliveries, &e.Tickets, &e.Notes, &e.CSATResponses, &e.AnswerFeedback)
	return e, err
}

// CountCustomerData counts what EraseCustomer would delete.
func (s *Store) CountCustomerData(ctx context.Context, id string) (storage.Erasure, error) {
	e, err := countCustomerData(ctx, s.pool, id, false)
	return e, translate("count customer data", err)
}

// EraseCustomer deletes the customer and everything of theirs in one transaction, with a
// "customer.erase" audit entry.
func (s *Store) EraseCustomer(ctx context.Context, id, actor string) (storage.Erasure, error) {
	var e storage.Erasure
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if e, err = countCustomerData(ctx, tx, id, true); err != nil {
			return err
		}
		// Conversations cascade to messages (and their deliveries) and tickets (and
		// their CSAT responses) and notes.
		for _, q := range []string{
			`DELETE FROM conversations WHERE customer_id = $1`,
			`DELETE FROM identities WHERE customer_id = $1`,
			`DELETE FROM customers WHERE id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, &tandem.AuditEntry{Actor: actor, Action: storage.AuditCustomerErase, Subject: id, Detail: e.Detail()})
	})
	if err != nil {
		return storage.Erasure{}, translate("erase customer", err)
	}
	return e, nil
}
