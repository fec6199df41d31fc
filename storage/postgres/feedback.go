package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// PutAnswerFeedback records a customer's vote on a knowledge answer, replacing their earlier
// one. The message row is read FOR SHARE, so it cannot be deleted between the check and the
// insert; concurrent votes on it serialise on the primary key (the last one wins).
func (s *Store) PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error {
	if err := storage.CheckAnswerFeedback(f); err != nil {
		return translate("put answer feedback", err)
	}
	if f.At.IsZero() {
		f.At = s.now()
	}
	f.At = dbTime(f.At)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		m := tandem.Message{ID: f.MessageID}
		var seq int64
		var customer string
		var redacted bool
		err := tx.QueryRow(ctx, `SELECT m.seq, m.role, m.citations, m.conversation_id, c.customer_id, c.bot_id, m.redacted_at IS NOT NULL
			FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1 FOR SHARE OF m`, f.MessageID).
			Scan(&seq, &m.Role, &m.Citations, &m.ConversationID, &customer, &f.BotID, &redacted)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("message", f.MessageID)
		}
		if err != nil {
			return fmt.Errorf("find message: %w", err)
		}
		if err := storage.CheckFeedbackTarget(&m, customer, f.CustomerID); err != nil {
			return err
		}
		f.ConversationID, f.CustomerID, f.QuestionID = m.ConversationID, customer, ""
		if redacted {
			f.Comment = ""
		}
		err = tx.QueryRow(ctx, `SELECT id FROM messages WHERE conversation_id = $1 AND role = 'customer' AND seq < $2
			ORDER BY seq DESC LIMIT 1`, m.ConversationID, seq).Scan(&f.QuestionID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("find question: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO message_feedback (message_id, conversation_id, customer_id, bot_id, question_id, helpful, comment, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (message_id) DO UPDATE SET customer_id = excluded.customer_id, helpful = excluded.helpful,
			comment = excluded.comment, at = excluded.at`,
			f.MessageID, f.ConversationID, f.CustomerID, f.BotID, f.QuestionID, f.Helpful, f.Comment, f.At)
		return err
	})
	return translate("put answer feedback", err)
}

// ListAnswerFeedback returns the matching votes with their question and answer, newest first.
func (s *Store) ListAnswerFeedback(ctx context.Context, f storage.AnswerFeedbackFilter) ([]storage.RatedAnswer, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ConversationID != "" {
		where = append(where, `f.conversation_id = `+arg(f.ConversationID))
	}
	if f.DocumentID != "" {
		where = append(where, `a.citations @> jsonb_build_array(jsonb_build_object('doc_id', `+arg(f.DocumentID)+`::text))`)
	}
	if f.Helpful != nil {
		where = append(where, `f.helpful = `+arg(*f.Helpful))
	}
	if !f.Since.IsZero() {
		where = append(where, `f.at >= `+arg(dbTime(f.Since)))
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
	q += ` ORDER BY f.at DESC, f.message_id DESC LIMIT ` + arg(limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list answer feedback", err)
	}
	defer rows.Close()
	var out []storage.RatedAnswer
	for rows.Next() {
		var r storage.RatedAnswer
		if err := rows.Scan(&r.MessageID, &r.ConversationID, &r.CustomerID, &r.BotID, &r.QuestionID, &r.Helpful, &r.Comment, &r.At,
			&r.Question, &r.Answer); err != nil {
			return nil, translate("list answer feedback", err)
		}
		r.At = utc(r.At)
		out = append(out, r)
	}
	return out, translate("list answer feedback", rows.Err())
}

// DocumentFeedbackStats sums the votes of the period per cited document; a document cited
// twice by one answer (two of its chunks) counts the vote once. Ties are ordered by byte
// order of the id (COLLATE "C"), as SQLite does.
func (s *Store) DocumentFeedbackStats(ctx context.Context, since time.Time, documentID string, limit int) ([]storage.DocumentFeedback, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT d.doc_id, count(*) FILTER (WHERE d.helpful), count(*) FILTER (WHERE NOT d.helpful) FROM (
			SELECT DISTINCT f.message_id, f.helpful, j->>'doc_id' AS doc_id
			FROM message_feedback f JOIN messages a ON a.id = f.message_id
			CROSS JOIN LATERAL jsonb_array_elements(a.citations) j
			WHERE f.at >= $1) d
		WHERE d.doc_id IS NOT NULL AND ($2 = '' OR d.doc_id = $2)
		GROUP BY d.doc_id ORDER BY 3 DESC, 2 DESC, d.doc_id COLLATE "C" LIMIT $3`, dbTime(since), documentID, limit)
	if err != nil {
		return nil, translate("document feedback stats", err)
	}
	defer rows.Close()
	var out []storage.DocumentFeedback
	for rows.Next() {
		var d storage.DocumentFeedback
		var helpful, not int64
		if err := rows.Scan(&d.DocumentID, &helpful, &not); err != nil {
			return nil, translate("document feedback stats", err)
		}
		d.Helpful, d.NotHelpful = int(helpful), int(not)
		out = append(out, d)
	}
	return out, translate("document feedback stats", rows.Err())
}

// AnswerFeedbackStats counts the votes of the period.
func (s *Store) AnswerFeedbackStats(ctx context.Context, since time.Time) (storage.AnswerFeedbackStats, error) {
	var rated, helpful int64
	err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE helpful) FROM message_feedback WHERE at >= $1`,
		dbTime(since)).Scan(&rated, &helpful)
	return storage.AnswerFeedbackStats{Rated: int(rated), Helpful: int(helpful)}, translate("answer feedback stats", err)
}
