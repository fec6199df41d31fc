package review_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
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
		{"unknown action", tandem.DocumentDraft, nil, "merge", ann, "", false, "", tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := review.Transition(doc(tt.status), tt.last, tt.action, tt.by, tt.comment, tt.require)
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
	s, err := sqlite.Open(ctx, ":memory:", sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "faq", Embedder: "test", Dimension: 3}); err != nil {
		t.Fatal(err)
	}
	d := &tandem.Document{ID: "faq/returns", Collection: "faq", Title: "Returns", ContentHash: "h", Status: tandem.DocumentDraft}
	if _, err := s.PutDocument(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	w := &review.Workflow{Store: s, Changer: s, RequireReview: true, Now: func() time.Time { return now }}
	ann, bob := review.Actor{Name: "agent:ann"}, review.Actor{Name: "agent:bob"}

	step := func(a review.Action, by review.Actor, comment string, want tandem.DocumentStatus) {
		t.Helper()
		if _, err := w.Take(ctx, d.ID, a, by, comment); err != nil {
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
	if _, err := w.Take(ctx, d.ID, review.Approve, ann, ""); tandem.ErrorCode(err) != tandem.EFORBIDDEN {
		t.Errorf("approve own = %v, want forbidden", err)
	}
	step(review.RequestChanges, bob, " add the address ", tandem.DocumentDraft)
	last, err := w.LastReview(ctx, d.ID)
	if err != nil || last.Comment != "add the address" || last.SubmittedBy != "agent:ann" || last.ReviewedBy != "agent:bob" {
		t.Fatalf("last review = %+v, %v", last, err)
	}
	step(review.Submit, ann, "", tandem.DocumentInReview)
	step(review.Approve, bob, "", tandem.DocumentPublished)

	audit, err := s.ListAudit(ctx, storage.AuditFilter{Subject: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range audit { // newest first
		got = append(got, e.Actor+" "+e.Action)
	}
	want := "agent:bob document.approve|agent:ann document.submit|agent:bob document.request_changes|agent:ann document.submit"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("audit = %s", g)
	}
}
