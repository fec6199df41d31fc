package review_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
)

// TestIngestStaged: ingesting for review publishes and unpublishes nothing. A new source
// is a draft even when its front matter says published; a change to a published document
// becomes its next version; a source equal to its published document stays as it is; a
// draft in review that did not change stays in review. With submit, the drafts are
// submitted (audited) and nothing else.
func TestIngestStaged(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	k := retrieval.New(s, nil, retrieval.WithLogger(slog.New(slog.DiscardHandler)))
	before := []retrieval.Source{
		{ID: "returns", Title: "Returns", Body: "Return within 30 days.", Status: tandem.DocumentPublished},
		{ID: "shipping", Title: "Shipping", Body: "Ships in 3 days.", Status: tandem.DocumentPublished},
		{ID: "privacy", Title: "Privacy", Body: "We never sell data.", Status: tandem.DocumentDraft},
	}
	if _, err := k.Ingest(ctx, "faq", before, nil); err != nil {
		t.Fatal(err)
	}
	w := &review.Workflow{Store: s, KB: k, RequireReview: review.Always(true)}
	if _, err := w.Take(ctx, "faq/privacy", 0, review.Submit, review.Actor{Name: "agent:ann"}, ""); err != nil {
		t.Fatal(err)
	}
	srcs := []retrieval.Source{
		{ID: "returns", Title: "Returns", Body: "Return within 60 days."},                            // changed
		{ID: "shipping", Title: "Shipping", Body: "Ships in 3 days."},                                // unchanged
		{ID: "privacy", Title: "Privacy", Body: "We never sell data."},                               // unchanged, in review
		{ID: "payment", Title: "Payment", Body: "Cards accepted.", Status: tandem.DocumentPublished}, // new
	}
	st, submitted, err := w.IngestStaged(ctx, "faq", srcs, true, review.Actor{Name: "cli", Admin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 2 || st.Unchanged != 2 {
		t.Errorf("stats = %+v, want 2 added (the next version, payment) and 2 unchanged", st)
	}
	slices.Sort(submitted)
	if want := []string{"faq/payment", review.NextID("faq/returns")}; !slices.Equal(submitted, want) {
		t.Errorf("submitted = %v, want %v", submitted, want)
	}
	for id, want := range map[string]tandem.DocumentStatus{
		"faq/returns": tandem.DocumentPublished, review.NextID("faq/returns"): tandem.DocumentInReview,
		"faq/shipping": tandem.DocumentPublished, "faq/privacy": tandem.DocumentInReview, "faq/payment": tandem.DocumentInReview,
	} {
		d, err := s.FindDocumentByID(ctx, id)
		if err != nil || d.Status != want {
			t.Errorf("%s = %+v, %v; want %s", id, d, err, want)
		}
	}
	if d, err := s.FindDocumentByID(ctx, "faq/returns"); err != nil || d.Body != "Return within 30 days." {
		t.Errorf("published returns = %+v, %v; want the 30 days still answering", d, err)
	}
	es, err := s.ListAudit(ctx, storage.AuditFilter{Action: review.AuditSubmit})
	if err != nil || len(es) != 3 {
		t.Errorf("submit audit = %+v, %v; want 3 entries (ann's and the ingestion's 2)", es, err)
	}
}
