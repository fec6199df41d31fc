package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// DeleteClosedConversations deletes up to limit closed conversations inactive since before,
// oldest first; their messages (with their answer feedback), deliveries, tickets, notes and
// CSAT responses go with them through the schema's cascades. The scan walks
// conversations_created, since a conversation's last activity is never before its creation.
func (s *Store) DeleteClosedConversations(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, tandem.Errorf(tandem.EINVALID, "delete closed conversations: limit must be positive")
	}
	b := dbTime(before).UnixMicro()
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE id IN (
			SELECT id FROM conversations WHERE created_at < ? AND status = 'closed' AND updated_at < ?
			ORDER BY created_at LIMIT ?)`, b, b, limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), translate("delete closed conversations", err)
}

// redaction is one message's redacted columns.
type redaction struct {
	id          string
	text        string
	annotations any    // NULL or JSON
	reply       string // "" when the message has no delivery
	comment     string // of the vote on the message, "" when none
}

// RedactMessages redacts up to limit messages created before `before`, oldest first. The
// candidates are read and redacted on the read pool, so the single writer only runs the
// updates (each re-checks the message was not redacted meanwhile).
func (s *Store) RedactMessages(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error) {
	if limit < 1 || redact == nil {
		return 0, tandem.Errorf(tandem.EINVALID, "redact messages: a positive limit and a redact function are required")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, m.text, m.annotations, d.reply, coalesce(f.comment, '') FROM messages m
		LEFT JOIN deliveries d ON d.message_id = m.id LEFT JOIN message_feedback f ON f.message_id = m.id
		WHERE m.redacted_at IS NULL AND m.created_at < ? ORDER BY m.created_at LIMIT ?`, dbTime(before).UnixMicro(), limit)
	if err != nil {
		return 0, translate("redact messages", err)
	}
	var rs []redaction
	for rows.Next() {
		var r redaction
		var ann, reply sql.NullString
		if err := rows.Scan(&r.id, &r.text, &ann, &reply, &r.comment); err != nil {
			rows.Close()
			return 0, translate("redact messages", err)
		}
		if r, err = redactRow(r, ann, reply, redact); err != nil {
			rows.Close()
			return 0, translate("redact messages", err)
		}
		rs = append(rs, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, translate("redact messages", err)
	}
	if len(rs) == 0 {
		return 0, nil
	}
	n := 0
	now := s.now().UnixMicro()
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, r := range rs {
			res, err := tx.ExecContext(ctx, `UPDATE messages SET text = ?, annotations = ?, redacted_at = ? WHERE id = ? AND redacted_at IS NULL`,
				r.text, r.annotations, now, r.id)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k == 0 {
				continue // redacted or deleted meanwhile
			}
			n++
			if r.comment != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE message_feedback SET comment = ? WHERE message_id = ?`, r.comment, r.id); err != nil {
					return err
				}
			}
			if r.reply == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET reply = ? WHERE message_id = ?`, r.reply, r.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, translate("redact messages", err)
	}
	return n, nil
}

// redactRow redacts r's text and its vote's comment, drops its annotations' entities (spans
// of the original text) and redacts its delivery's reply text.
func redactRow(r redaction, ann, reply sql.NullString, redact func(string) string) (redaction, error) {
	r.text = redact(r.text)
	if r.comment != "" {
		r.comment = redact(r.comment)
	}
	if ann.Valid {
		var a tandem.Annotations
		if err := json.Unmarshal([]byte(ann.String), &a); err != nil {
			return r, fmt.Errorf("decode annotations of %s: %w", r.id, err)
		}
		a.Entities = nil
		b, err := json.Marshal(a)
		if err != nil {
			return r, err
		}
		r.annotations = string(b)
	}
	if reply.Valid {
		var rep tandem.Reply
		if err := json.Unmarshal([]byte(reply.String), &rep); err != nil {
			return r, fmt.Errorf("decode reply of %s: %w", r.id, err)
		}
		rep = rep.Redacted(redact)
		b, err := json.Marshal(rep)
		if err != nil {
			return r, err
		}
		r.reply = string(b)
	}
	return r, nil
}

// countCustomerDataSQL counts a customer's rows (?1 is the customer id).
const countCustomerDataSQL = `SELECT
	(SELECT count(*) FROM identities WHERE customer_id = ?1),
	(SELECT count(*) FROM conversations WHERE customer_id = ?1),
	(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = ?1),
	(SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
		JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = ?1),
	(SELECT count(*) FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE c.customer_id = ?1),
	(SELECT count(*) FROM ticket_notes n JOIN conversations c ON c.id = n.conversation_id WHERE c.customer_id = ?1),
	(SELECT count(*) FROM csat_responses r JOIN tickets t ON t.id = r.ticket_id
		JOIN conversations c ON c.id = t.conversation_id WHERE c.customer_id = ?1),
	(SELECT count(*) FROM message_feedback f JOIN conversations c ON c.id = f.conversation_id WHERE c.customer_id = ?1)`

func (s *Store) countCustomerData(ctx context.Context, q querier, id string) (storage.Erasure, error) {
	if _, err := s.findCustomer(ctx, q, id); err != nil {
		return storage.Erasure{}, err
	}
	e := storage.Erasure{CustomerID: id}
	err := q.QueryRowContext(ctx, countCustomerDataSQL, id).Scan(&e.Identities, &e.Conversations, &e.Messages,
		&e.Deliveries, &e.Tickets, &e.Notes, &e.CSATResponses, &e.AnswerFeedback)
	return e, err
}

// CountCustomerData counts what EraseCustomer would delete.
func (s *Store) CountCustomerData(ctx context.Context, id string) (storage.Erasure, error) {
	e, err := s.countCustomerData(ctx, s.r, id)
	return e, translate("count customer data", err)
}

// EraseCustomer deletes the customer and everything of theirs in one transaction, with a
// "customer.erase" audit entry, then forgets them in the lookup cache.
func (s *Store) EraseCustomer(ctx context.Context, id, actor string) (storage.Erasure, error) {
	var e storage.Erasure
	var idents []tandem.Identity
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = s.countCustomerData(ctx, tx, id); err != nil {
			return err
		}
		if idents, err = s.identitiesOf(ctx, tx, id); err != nil {
			return err
		}
		// Conversations cascade to messages (and their deliveries) and tickets (and
		// their CSAT responses) and notes.
		for _, q := range []string{
			`DELETE FROM conversations WHERE customer_id = ?`,
			`DELETE FROM identities WHERE customer_id = ?`,
			`DELETE FROM customers WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, &tandem.AuditEntry{Actor: actor, Action: storage.AuditCustomerErase, Subject: id, Detail: e.Detail()})
	}, func() { s.cache.erasedCustomer(id, idents) })
	if err != nil {
		return storage.Erasure{}, translate("erase customer", err)
	}
	return e, nil
}

func (s *Store) identitiesOf(ctx context.Context, q querier, customerID string) ([]tandem.Identity, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+identityCols+` FROM identities WHERE customer_id = ?`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tandem.Identity
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *i)
	}
	return out, rows.Err()
}
