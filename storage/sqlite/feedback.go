package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// PutAnswerFeedback records a customer's vote on a knowledge answer, replacing their earlier
// one: the message and its conversation are checked in the writer's transaction.
func (s *Store) PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error {
	if err := storage.CheckAnswerFeedback(f); err != nil {
		return translate("put answer feedback", err)
	}
	if f.At.IsZero() {
		f.At = s.now()
	}
	f.At = dbTime(f.At)
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		m := tandem.Message{ID: f.MessageID}
		var seq int64
		var cit sql.NullString
		var customer string
		var redacted bool
		err := tx.QueryRowContext(ctx, `SELECT m.seq, m.role, m.citations, m.conversation_id, c.customer_id, c.bot_id, m.redacted_at IS NOT NULL
			FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?`, f.MessageID).
			Scan(&seq, &m.Role, &cit, &m.ConversationID, &customer, &f.BotID, &redacted)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("message", f.MessageID)
		}
		if err != nil {
			return err
		}
		if cit.Valid {
			if err := json.Unmarshal([]byte(cit.String), &m.Citations); err != nil {
				return fmt.Errorf("decode citations: %w", err)
			}
		}
		if err := storage.CheckFeedbackTarget(&m, customer, f.CustomerID); err != nil {
			return err
		}
		f.ConversationID, f.CustomerID, f.QuestionID = m.ConversationID, customer, ""
		if redacted {
			f.Comment = ""
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE conversation_id = ? AND role = 'customer' AND seq < ?
			ORDER BY seq DESC LIMIT 1`, m.ConversationID, seq).Scan(&f.QuestionID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO message_feedback (message_id, conversation_id, customer_id, bot_id, question_id, helpful, comment, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (message_id) DO UPDATE SET customer_id = excluded.customer_id, helpful = excluded.helpful,
			comment = excluded.comment, at = excluded.at`,
			f.MessageID, f.ConversationID, f.CustomerID, f.BotID, f.QuestionID, f.Helpful, f.Comment, f.At.UnixMicro())
		return err
	})
	return translate("put answer feedback", err)
}

// ListAnswerFeedback returns the matching votes with their question and answer, newest first.
func (s *Store) ListAnswerFeedback(ctx context.Context, f storage.AnswerFeedbackFilter) ([]storage.RatedAnswer, error) {
	var where []string
	var args []any
	if f.ConversationID != "" {
		where, args = append(where, `f.conversation_id = ?`), append(args, f.ConversationID)
	}
	if f.DocumentID != "" {
		where = append(where, `EXISTS (SELECT 1 FROM json_each(a.citations) j WHERE json_extract(j.value, '$.doc_id') = ?)`)
		args = append(args, f.DocumentID)
	}
	if f.Helpful != nil {
		where, args = append(where, `f.helpful = ?`), append(args, *f.Helpful)
	}
	if !f.Since.IsZero() {
		where, args = append(where, `f.at >= ?`), append(args, dbTime(f.Since).UnixMicro())
	}
	q := `SELECT f.message_id, f.conversation_id, f.customer_id, f.bot_id, f.question_id, f.helpful, f.comment, f.at,
		coalesce(qm.text, ''), a.text
		FROM message_feedback f JOIN messages a ON a.id = f.message_id LEFT JOIN messages qm ON qm.id = f.question_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY f.at DESC, f.message_id DESC LIMIT ?`
	rows, err := s.r.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, translate("list answer feedback", err)
	}
	defer rows.Close()
	var out []storage.RatedAnswer
	for rows.Next() {
		var r storage.RatedAnswer
		var at int64
		if err := rows.Scan(&r.MessageID, &r.ConversationID, &r.CustomerID, &r.BotID, &r.QuestionID, &r.Helpful, &r.Comment, &at,
			&r.Question, &r.Answer); err != nil {
			return nil, translate("list answer feedback", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	return out, translate("list answer feedback", rows.Err())
}

// DocumentFeedbackStats sums the votes of the period per cited document; a document cited
// twice by one answer (two of its chunks) counts the vote once.
func (s *Store) DocumentFeedbackStats(ctx context.Context, since time.Time, documentID string, limit int) ([]storage.DocumentFeedback, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT d.doc_id, sum(d.helpful), count(*) - sum(d.helpful) FROM (
			SELECT DISTINCT f.message_id, f.helpful, json_extract(j.value, '$.doc_id') AS doc_id
			FROM message_feedback f JOIN messages a ON a.id = f.message_id, json_each(a.citations) j
			WHERE f.at >= ?) d
		WHERE d.doc_id IS NOT NULL AND (? = '' OR d.doc_id = ?)
		GROUP BY d.doc_id ORDER BY 3 DESC, 2 DESC, 1 LIMIT ?`, dbTime(since).UnixMicro(), documentID, documentID, limit)
	if err != nil {
		return nil, translate("document feedback stats", err)
	}
	defer rows.Close()
	var out []storage.DocumentFeedback
	for rows.Next() {
		var d storage.DocumentFeedback
		if err := rows.Scan(&d.DocumentID, &d.Helpful, &d.NotHelpful); err != nil {
			return nil, translate("document feedback stats", err)
		}
		out = append(out, d)
	}
	return out, translate("document feedback stats", rows.Err())
}

// AnswerFeedbackStats counts the votes of the period.
func (s *Store) AnswerFeedbackStats(ctx context.Context, since time.Time) (storage.AnswerFeedbackStats, error) {
	var st storage.AnswerFeedbackStats
	err := s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(helpful), 0) FROM message_feedback WHERE at >= ?`,
		dbTime(since).UnixMicro()).Scan(&st.Rated, &st.Helpful)
	return st, translate("answer feedback stats", err)
}
