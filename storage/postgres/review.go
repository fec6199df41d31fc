package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// ReviewDocument moves a document between review states and records the review round.
func (s *Store) ReviewDocument(ctx context.Context, c storage.ReviewChange) error {
	r := c.Review
	var reviewedAt *time.Time
	if !r.ReviewedAt.IsZero() {
		t := dbTime(r.ReviewedAt)
		reviewedAt = &t
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 AND version = $5`,
			c.To, s.now(), r.DocumentID, c.From, c.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM documents WHERE id = $1`, r.DocumentID).Scan(&one); err != nil {
				return err
			}
			return tandem.Errorf(tandem.ECONFLICT, "document %q changed meanwhile; reload it", r.DocumentID)
		}
		_, err = tx.Exec(ctx, `INSERT INTO document_reviews (document_id, submitted_by, submitted_at, reviewed_by, reviewed_at, comment)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (document_id) DO UPDATE SET submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at,
			reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at, comment = excluded.comment`,
			r.DocumentID, r.SubmittedBy, dbTime(r.SubmittedAt), r.ReviewedBy, reviewedAt, r.Comment)
		return err
	})
	return translate("review document", err)
}

// FindDocumentReview returns a document's latest review round.
func (s *Store) FindDocumentReview(ctx context.Context, documentID string) (*tandem.DocumentReview, error) {
	r := tandem.DocumentReview{DocumentID: documentID}
	var reviewed *time.Time
	err := s.pool.QueryRow(ctx, `SELECT submitted_by, submitted_at, reviewed_by, reviewed_at, comment FROM document_reviews WHERE document_id = $1`,
		documentID).Scan(&r.SubmittedBy, &r.SubmittedAt, &r.ReviewedBy, &reviewed, &r.Comment)
	if err != nil {
		return nil, translate("find document review", err)
	}
	r.SubmittedAt = r.SubmittedAt.UTC()
	if reviewed != nil {
		r.ReviewedAt = reviewed.UTC()
	}
	return &r, nil
}
