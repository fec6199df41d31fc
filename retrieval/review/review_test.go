package review_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

func TestTransition(t *testing.T) {
	doc := func(s tandem.DocumentStatus) tandem.Document { return tandem.Document{ID: "faq/x", Status: s} }
	byAnn := &tandem.DocumentReview{SubmittedBy: "agent:ann"}
	ann, bob := review.Actor{Name: "agent:ann"}, review.Actor{Name: "agent:bob"}
	admin := review.Actor{Name: "agent:ann", Admin: true}
	tests := []struct {
		name    string
		status  tandem.DocumentStatus
		last    *tandem.DocumentReview
		action  review.Action
		by      review.Actor
		comment string
		require bool
		want    tandem.DocumentStatus
		code    string
	}{
		{"submit draft", tandem.DocumentDraft, nil, review.Submit, ann, "", false, tandem.DocumentInReview, ""},
		{"submit after changes requested", tandem.DocumentDraft, byAnn, review.Submit, ann, "", true, tandem.DocumentInReview, ""},
		{"submit in review", tandem.DocumentInReview, byAnn, review.Submit, ann, "", false, "", tandem.ECONFLICT},
		{"submit published", tandem.DocumentPublished, nil, review.Submit, ann, "", false, "", tandem.ECONFLICT},
		{"approve by another editor", tandem.DocumentInReview, byAnn, review.Approve, bob, "", true, tandem.DocumentPublished, ""},
		{"approve own submission", tandem.DocumentInReview, byAnn, review.Approve, ann, "", true, "", tandem.EFORBIDDEN},
		{"admin approves own submission", tandem.DocumentInReview, byAnn, review.Approve, admin, "", true, tandem.DocumentPublished, ""},
		{"approve a draft", tandem.DocumentDraft, byAnn, review.Approve, bob, "", true, "", tandem.ECONFLICT},
		{"approve published", tandem.DocumentPublished, byAnn, review.Approve, bob, "", true, "", tandem.ECONFLICT},
		{"request changes", tandem.DocumentInReview, byAnn, review.RequestChanges, bob, "cite the policy", true, tandem.DocumentDraft, ""},
		{"request changes without a comment", tandem.DocumentInReview, byAnn, review.RequestChanges, bob, "  ", true, "", tandem.EINVALID},
		{"request changes with a long comment", tandem.DocumentInReview, byAnn, review.RequestChanges, bob, strings.Repeat("x", review.MaxCommentRunes+1), true, "", tandem.EINVALID},
		{"request changes on own submission", tandem.DocumentInReview, byAnn, review.RequestChanges, ann, "redo", true, "", tandem.EFORBIDDEN},
		{"request changes on a draft", tandem.DocumentDraft, nil, review.RequestChanges, bob, "redo", true, "", tandem.ECONFLICT},
		{"publish a draft without review required", tandem.DocumentDraft, nil, review.Publish, ann, "", false, tandem.DocumentPublished, ""},
		{"publish a draft with review required", tandem.DocumentDraft, nil, review.Publish, admin, "", true, "", tandem.EFORBIDDEN},
		{"publish in review with review required", tandem.DocumentInReview, byAnn, review.Publish, bob, "", true, "", tandem.EFORBIDDEN},
		{"publish published with review required", tandem.DocumentPublished, nil, review.Publish, ann, "", true, tandem.DocumentPublished, ""},
		{"publish a next version directly", "", nil, review.Publish, admin, "", false, "", tandem.EINVALID},
		{"unknown action", tandem.DocumentDraft, nil, "merge", ann, "", false, "", tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := doc(tt.status)
			if tt.status == "" {
				d = tandem.Document{ID: review.NextID("faq/x"), Status: tandem.DocumentDraft}
			}
			got, err := review.Transition(d, tt.last, tt.action, tt.by, tt.comment, tt.require)
			if tandem.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if got != tt.want {
				t.Errorf("status = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWorkflowTake(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	k := retrieval.New(s, nil, retrieval.WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := k.Ingest(ctx, "faq", []retrieval.Source{{ID: "returns", Title: "Returns", Body: "Return within 30 days.", Status: tandem.DocumentDraft}}, nil); err != nil {
		t.Fatal(err)
	}
	d, err := s.FindDocumentByID(ctx, "faq/returns")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	w := &review.Workflow{Store: s, KB: k, RequireReview: review.Always(true), Now: func() time.Time { return now }}
	ann, bob := review.Actor{Name: "agent:ann"}, review.Actor{Name: "agent:bob"}

	step := func(a review.Action, by review.Actor, comment string, want tandem.DocumentStatus) {
		t.Helper()
		if _, err := w.Take(ctx, d.ID, 0, a, by, comment); err != nil {
			t.Fatalf("%s by %s: %v", a, by.Name, err)
		}
		got, err := s.FindDocumentByID(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want {
			t.Fatalf("after %s: status %s, want %s", a, got.Status, want)
		}
	}
	if err := w.CheckPublish(*d); tandem.ErrorCode(err) != tandem.EFORBIDDEN {
		t.Errorf("publish a draft = %v, want forbidden", err)
	}
	step(review.Submit, ann, "", tandem.DocumentInReview)
	if _, err := w.Take(ctx, d.ID, 0, review.Approve, ann, ""); tandem.ErrorCode(err) != tandem.EFORBIDDEN {
		t.Errorf("approve own = %v, want forbidden", err)
	}
	step(review.RequestChanges, bob, " add the address ", tandem.DocumentDraft)
	last, err := w.LastReview(ctx, d.ID)
	if err != nil || last.Comment != "add the address" || last.SubmittedBy != "agent:ann" || last.ReviewedBy != "agent:bob" {
		t.Fatalf("last review = %+v, %v", last, err)
	}
	step(review.Submit, ann, "", tandem.DocumentInReview)
	// A change while in review (here a re-ingest keeping the status) ends the round.
	if _, err := k.Ingest(ctx, "faq", []retrieval.Source{{ID: "returns", Title: "Returns", Body: "Return within 30 days, postage paid."}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindDocumentByID(ctx, d.ID); got.Status != tandem.DocumentDraft {
		t.Fatalf("changed in review: status %s, want draft", got.Status)
	}
	step(review.Submit, ann, "", tandem.DocumentInReview)
	if _, err := w.Take(ctx, d.ID, 1, review.Approve, bob, ""); tandem.ErrorCode(err) != tandem.ECONFLICT {
		t.Errorf("approve the version seen before the change = %v, want conflict", err)
	}
	step(review.Approve, bob, "", tandem.DocumentPublished)

	audit, err := s.ListAudit(ctx, storage.AuditFilter{Subject: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range audit { // newest first
		got = append(got, e.Actor+" "+e.Action)
	}
	want := "agent:bob document.approve|agent:ann document.submit|agent:ann document.submit|agent:bob document.request_changes|agent:ann document.submit"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("audit = %s", g)
	}
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), ":memory:", sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestWorkflowNextVersion checks that a published document keeps answering while its next
// version is in review, and that approving the next version publishes its content in place.
func TestWorkflowNextVersion(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	k := retrieval.New(s, nil, retrieval.WithLogger(slog.New(slog.DiscardHandler)))
	srcs := []retrieval.Source{
		{ID: "returns", Title: "Returns", Body: "Return any item within 30 days.", Status: tandem.DocumentPublished},
		{ID: "returns" + review.NextSuffix, Title: "Returns", Body: "Return any item within 60 days.", Status: tandem.DocumentDraft},
	}
	if _, err := k.Ingest(ctx, "faq", srcs, nil); err != nil {
		t.Fatal(err)
	}
	w := &review.Workflow{Store: s, KB: k, RequireReview: review.Always(true)}
	next := review.NextID("faq/returns")
	if live, ok := review.LiveID(next); !ok || live != "faq/returns" {
		t.Fatalf("LiveID(%q) = %q, %v", next, live, ok)
	}
	answers := func() string {
		t.Helper()
		hits, err := k.Search(ctx, "how many days to return an item", storage.SearchFilter{Collections: []string{"faq"}, Status: tandem.DocumentPublished})
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, h := range hits {
			texts = append(texts, h.DocumentID+": "+h.Text)
		}
		return strings.Join(texts, "|")
	}
	if _, err := w.Take(ctx, next, 0, review.Submit, review.Actor{Name: "agent:ann"}, ""); err != nil {
		t.Fatal(err)
	}
	if got := answers(); !strings.Contains(got, "30 days") || strings.Contains(got, "60 days") {
		t.Fatalf("while in review, answers = %s; want the published 30 days only", got)
	}
	if _, err := w.Take(ctx, next, 0, review.Approve, review.Actor{Name: "agent:bob"}, ""); err != nil {
		t.Fatal(err)
	}
	live, err := s.FindDocumentByID(ctx, "faq/returns")
	if err != nil {
		t.Fatal(err)
	}
	if live.Status != tandem.DocumentPublished || live.Version != 2 || !strings.Contains(live.Body, "60 days") {
		t.Errorf("live after approval = %s v%d %q", live.Status, live.Version, live.Body)
	}
	if _, err := s.FindDocumentByID(ctx, next); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("next version still stored: %v", err)
	}
	if got := answers(); !strings.Contains(got, "60 days") || strings.Contains(got, "30 days") {
		t.Errorf("after approval, answers = %s", got)
	}
	if r, err := w.LastReview(ctx, "faq/returns"); err != nil || r == nil || r.SubmittedBy != "agent:ann" || r.ReviewedBy != "agent:bob" {
		t.Errorf("live review = %+v, %v", r, err)
	}
	es, err := s.ListAudit(ctx, storage.AuditFilter{Action: review.AuditApprove})
	if err != nil || len(es) != 1 || es[0].Subject != "faq/returns" || es[0].Detail["next"] != next || es[0].Detail["version"] != "2" {
		t.Errorf("approve audit = %+v, %v", es, err)
	}
}
