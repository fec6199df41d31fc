package storagetest

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func testDocumentReviews(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "rev", Embedder: "test", Dimension: 3})
	must(t, err)
	put := func(t *testing.T, hash string) *tandem.Document {
		t.Helper()
		d := &tandem.Document{Collection: "rev", Title: "Returns " + hash, ContentHash: hash, Status: tandem.DocumentDraft, Body: "b"}
		_, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "returns within 30 days", Embedding: []float32{1, 0, 0}}})
		must(t, err)
		return d
	}
	t.Run("ReviewDocument/OK", func(t *testing.T) {
		t.Parallel()
		d := put(t, "r1")
		_, err := s.FindDocumentReview(ctx, d.ID)
		wantCode(t, err, tandem.ENOTFOUND)

		submit := tandem.DocumentReview{DocumentID: d.ID, SubmittedBy: "agent:a", SubmittedAt: when}
		must(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 1, From: tandem.DocumentDraft, To: tandem.DocumentInReview, Review: submit}))
		got, err := s.FindDocumentByID(ctx, d.ID)
		must(t, err)
		if got.Status != tandem.DocumentInReview {
			t.Errorf("status = %s, want in_review", got.Status)
		}
		list, err := s.ListDocuments(ctx, storage.DocumentFilter{Collection: "rev", Status: tandem.DocumentInReview})
		must(t, err)
		if len(list) != 1 || list[0].ID != d.ID {
			t.Errorf("in review = %+v", list)
		}
		hits, err := s.SearchText(ctx, "returns", storage.SearchFilter{Collections: []string{"rev"}, Status: tandem.DocumentPublished})
		must(t, err)
		if len(hits) != 0 {
			t.Errorf("a document in review answers: %+v", hits)
		}

		back := submit
		back.ReviewedBy, back.ReviewedAt, back.Comment = "agent:b", when.Add(1e9), "cite the policy"
		must(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 1, From: tandem.DocumentInReview, To: tandem.DocumentDraft, Review: back}))
		r, err := s.FindDocumentReview(ctx, d.ID)
		must(t, err)
		if r.DocumentID != d.ID || r.SubmittedBy != "agent:a" || r.ReviewedBy != "agent:b" || r.Comment != "cite the policy" {
			t.Errorf("review = %+v", r)
		}
		wantTime(t, "SubmittedAt", r.SubmittedAt, when)
		wantTime(t, "ReviewedAt", r.ReviewedAt, when.Add(1e9))

		// A new round replaces the previous one.
		again := tandem.DocumentReview{DocumentID: d.ID, SubmittedBy: "agent:c", SubmittedAt: when.Add(2e9)}
		must(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 1, From: tandem.DocumentDraft, To: tandem.DocumentInReview, Review: again}))
		r, err = s.FindDocumentReview(ctx, d.ID)
		must(t, err)
		if r.SubmittedBy != "agent:c" || r.ReviewedBy != "" || !r.ReviewedAt.IsZero() || r.Comment != "" {
			t.Errorf("second round = %+v", r)
		}
		approve := again
		approve.ReviewedBy, approve.ReviewedAt = "agent:b", when.Add(3e9)
		must(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 1, From: tandem.DocumentInReview, To: tandem.DocumentPublished, Review: approve}))
		hits, err = s.SearchText(ctx, "returns", storage.SearchFilter{Collections: []string{"rev"}, Status: tandem.DocumentPublished})
		must(t, err)
		if len(hits) != 1 || hits[0].DocumentID != d.ID {
			t.Errorf("approved document does not answer: %+v", hits)
		}

		must(t, s.DeleteDocument(ctx, d.ID))
		_, err = s.FindDocumentReview(ctx, d.ID)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ReviewDocument/ErrConflict", func(t *testing.T) {
		t.Parallel()
		d := put(t, "r2")
		r := tandem.DocumentReview{DocumentID: d.ID, SubmittedBy: "agent:a", SubmittedAt: when}
		// Wrong current status, then a stale version.
		wantCode(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 1, From: tandem.DocumentInReview, To: tandem.DocumentPublished, Review: r}), tandem.ECONFLICT)
		wantCode(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 2, From: tandem.DocumentDraft, To: tandem.DocumentInReview, Review: r}), tandem.ECONFLICT)
		got, err := s.FindDocumentByID(ctx, d.ID)
		must(t, err)
		if got.Status != tandem.DocumentDraft {
			t.Errorf("status = %s after refused changes", got.Status)
		}
		_, err = s.FindDocumentReview(ctx, d.ID)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ReviewDocument/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		r := tandem.DocumentReview{DocumentID: "rev/missing", SubmittedBy: "agent:a", SubmittedAt: when}
		wantCode(t, s.ReviewDocument(ctx, storage.ReviewChange{Version: 1, From: tandem.DocumentDraft, To: tandem.DocumentInReview, Review: r}), tandem.ENOTFOUND)
	})
}
