package sqlite

import (
	"context"
	"database/sql"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// ReviewDocument moves a document between review states and records the review round.
func (s *Store) ReviewDocument(ctx context.Context, c storage.ReviewChange) error {
	r := c.Review
	var reviewedAt sql.NullInt64
	if !r.ReviewedAt.IsZero() {
		reviewedAt = sql.NullInt64{Int64: r.ReviewedAt.UnixMicro(), Valid: true}
	}
	s.kmu.Lock()
	defer s.kmu.Unlock()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE documents SET status = ?, updated_at = ? WHERE id = ? AND status = ? AND version = ?`,
			c.To, s.now().UnixMicro(), r.DocumentID, c.From, c.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM documents WHERE id = ?`, r.DocumentID).Scan(&one); err != nil {
				return err
			}
			return tandem.Errorf(tandem.ECONFLICT, "document %q changed meanwhile; reload it", r.DocumentID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO document_reviews (document_id, submitted_by, submitted_at, reviewed_by, reviewed_at, comment)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (document_id) DO UPDATE SET submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at,
			reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at, comment = excluded.comment`,
			r.DocumentID, r.SubmittedBy, r.SubmittedAt.UnixMicro(), r.ReviewedBy, reviewedAt, r.Comment)
		return err
	})
	if err != nil {
		return translate("review document", err)
	}
	s.idx.setStatus(r.DocumentID, c.To)
	return nil
}

// FindDocumentReview returns a document's latest review round.
func (s *Store) FindDocumentReview(ctx context.Context, documentID string) (*tandem.DocumentReview, error) {
	r := tandem.DocumentReview{DocumentID: documentID}
	var submitted int64
	var reviewed sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT submitted_by, submitted_at, reviewed_by, reviewed_at, comment FROM document_reviews WHERE document_id = ?`,
		documentID).Scan(&r.SubmittedBy, &submitted, &r.ReviewedBy, &reviewed, &r.Comment)
	if err != nil {
		return nil, translate("find document review", err)
	}
	r.SubmittedAt = fromMicros(submitted)
	if reviewed.Valid {
		r.ReviewedAt = fromMicros(reviewed.Int64)
	}
	return &r, nil
}
