package kb_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/web/kb"
)

type adminKey struct{}

// setupReview is the fixture's editor with signed-in editors: as() names them.
func setupReview(t *testing.T, cfg kb.Config) *fixture {
	t.Helper()
	f := setup(t, cfg)
	f.h = kb.New(cfg, kb.Deps{KB: f.kb, Store: f.store,
		Actor: func(ctx context.Context) string { s, _ := ctx.Value(actorKey{}).(string); return s },
		Admin: func(ctx context.Context) bool { a, _ := ctx.Value(adminKey{}).(bool); return a },
	})
	return f
}

// as makes r a request of editor "agent:<who>"; "admin" is an admin.
func as(r *http.Request, who string) *http.Request {
	ctx := context.WithValue(r.Context(), actorKey{}, "agent:"+who)
	return r.WithContext(context.WithValue(ctx, adminKey{}, who == "admin"))
}

// TestReviewFlow walks a draft through review with review required, one step at a time.
func TestReviewFlow(t *testing.T) {
	t.Parallel()
	f := setupReview(t, kb.Config{RequireReview: review.Always(true)})
	doc := "/kb/docs/" + returnsID
	steps := []struct {
		name     string
		r        *http.Request
		status   int
		location string
		want     []string
		not      []string
		after    tandem.DocumentStatus
	}{
		{"DraftPage", as(form("GET", doc, nil), "ann"), 200, "", []string{`id="submit-review"`, "Needs review"}, []string{`id="publish"`}, tandem.DocumentDraft},
		{"ErrPublishNeedsReview", as(form("POST", doc+"/publish", nil), "ann"), 403, "", []string{"needs review"}, nil, tandem.DocumentDraft},
		{"ErrApproveDraft", as(form("POST", doc+"/approve", nil), "bob"), 409, "", []string{"not in review"}, nil, tandem.DocumentDraft},
		{"ErrGetSubmit", as(form("GET", doc+"/submit", nil), "ann"), 405, "", nil, nil, tandem.DocumentDraft},
		{"Submit", as(form("POST", doc+"/submit", nil), "ann"), 303, doc, nil, nil, tandem.DocumentInReview},
		{"ErrSubmitTwice", as(form("POST", doc+"/submit", nil), "ann"), 409, "", nil, nil, tandem.DocumentInReview},
		{"ReviewListSubmitter", as(form("GET", "/kb/review", nil), "ann"), 200, "", []string{"Returns and refunds", "agent:ann", "waiting for another editor"}, []string{`class="approve"`}, tandem.DocumentInReview},
		{"ErrApproveOwn", as(form("POST", doc+"/approve", nil), "ann"), 403, "", []string{"another editor must review"}, nil, tandem.DocumentInReview},
		{"ReviewListOther", as(form("GET", "/kb/review", nil), "bob"), 200, "", []string{"Returns and refunds", `class="approve"`, "request-changes"}, nil, tandem.DocumentInReview},
		{"ErrRejectWithoutComment", as(form("POST", doc+"/request-changes", url.Values{"comment": {" "}}), "bob"), 400, "", []string{"comment is required"}, nil, tandem.DocumentInReview},
		{"RequestChanges", as(form("POST", doc+"/request-changes", url.Values{"comment": {"Say who pays the postage."}}), "bob"), 303, doc, nil, nil, tandem.DocumentDraft},
		{"CommentShown", as(form("GET", doc, nil), "ann"), 200, "", []string{"Say who pays the postage.", "by agent:bob"}, nil, tandem.DocumentDraft},
		{"Resubmit", as(form("POST", doc+"/submit", nil), "ann"), 303, doc, nil, nil, tandem.DocumentInReview},
		{"AdminSeesForms", as(form("GET", doc, nil), "admin"), 200, "", []string{`class="approve"`}, nil, tandem.DocumentInReview},
		{"ErrApproveStaleVersion", as(form("POST", doc+"/approve", url.Values{"version": {"9"}}), "bob"), 409, "", []string{"changed since you opened it"}, nil, tandem.DocumentInReview},
		{"ErrApproveBadVersion", as(form("POST", doc+"/approve", url.Values{"version": {"x"}}), "bob"), 400, "", nil, nil, tandem.DocumentInReview},
		{"ApproveFromReviewPage", as(form("POST", doc+"/approve", url.Values{"from": {"review"}, "version": {"1"}}), "bob"), 303, "/kb/review", nil, nil, tandem.DocumentPublished},
		{"ReviewListEmpty", as(form("GET", "/kb/review", nil), "bob"), 200, "", []string{"Nothing waits for review"}, nil, tandem.DocumentPublished},
	}
	for _, s := range steps {
		res, body := f.do(t, s.r)
		if res.StatusCode != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, res.StatusCode, s.status, body)
		}
		if loc := res.Header.Get("Location"); s.location != "" && !strings.HasPrefix(loc, s.location) {
			t.Errorf("%s: location %q, want %q", s.name, loc, s.location)
		}
		for _, w := range s.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: body lacks %q", s.name, w)
			}
		}
		for _, n := range s.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: body has %q", s.name, n)
			}
		}
		if got := f.doc(t, returnsID).Status; got != s.after {
			t.Fatalf("%s: status %s, want %s", s.name, got, s.after)
		}
	}
	for action, n := range map[string]int{review.AuditSubmit: 2, review.AuditRequestChanges: 1, review.AuditApprove: 1} {
		if es := f.audit(t, action); len(es) != n {
			t.Errorf("%d %s entries, want %d: %+v", len(es), action, n, es)
		}
	}
	if es := f.audit(t, review.AuditApprove); len(es) == 1 && es[0].Actor != "agent:bob" {
		t.Errorf("approved by %s", es[0].Actor)
	}
}

// TestReviewOptional checks that without RequireReview editors still publish directly, and
// that without accounts (no actor) anyone may review.
func TestReviewOptional(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{})
	doc := "/kb/docs/" + returnsID
	if res, body := f.do(t, form("GET", doc, nil)); res.StatusCode != 200 || !strings.Contains(body, `id="publish"`) || !strings.Contains(body, `id="submit-review"`) {
		t.Fatalf("draft page: %d, publish and submit buttons expected", res.StatusCode)
	}
	if res, _ := f.do(t, form("POST", doc+"/submit", nil)); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	if res, body := f.do(t, form("POST", doc+"/approve", nil)); res.StatusCode != 303 {
		t.Fatalf("approve without accounts: %d %s", res.StatusCode, body)
	}
	if got := f.doc(t, returnsID).Status; got != tandem.DocumentPublished {
		t.Errorf("status %s", got)
	}
}

// TestReviewNextVersion checks that an edit of a published document, with review required,
// waits aside as its next version while the published one keeps answering.
func TestReviewNextVersion(t *testing.T) {
	t.Parallel()
	f := setupReview(t, kb.Config{RequireReview: review.Always(true)})
	live, next := shippingID, review.NextID(shippingID)
	edit := url.Values{"title": {"How long does shipping take?"}, "body": {"Standard shipping takes 2 to 4 business days. Express shipping arrives the next day."},
		"tags": {"shipping"}, "url": {"https://example.com/shipping"}}
	res, body := f.do(t, as(form("POST", "/kb/docs/"+live+"/edit", edit), "ann"))
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/kb/docs/"+next) {
		t.Fatalf("edit: %d %s %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if d := f.doc(t, live); d.Status != tandem.DocumentPublished || d.Version != 1 || !strings.Contains(d.Body, "3 to 5") {
		t.Fatalf("published document changed: %s v%d %q", d.Status, d.Version, d.Body)
	}
	if res, _ := f.do(t, as(form("GET", "/kb/docs/"+live+"/edit", nil), "ann")); res.StatusCode != 303 || res.Header.Get("Location") != "/kb/docs/"+next+"/edit" {
		t.Errorf("edit of the published document: %d %s, want the next version's", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := f.do(t, as(form("GET", "/kb/docs/"+live, nil), "ann")); !strings.Contains(body, `id="next-version"`) {
		t.Errorf("published page does not link its next version")
	}
	_, body = f.do(t, as(form("GET", "/kb/docs/"+next, nil), "ann"))
	for _, w := range []string{`id="doc-diff"`, `diff-del">- Standard shipping takes 3 to 5`, `diff-add">&#43; Standard shipping takes 2 to 4`, `id="next-of"`} {
		if !strings.Contains(body, w) {
			t.Errorf("next version page lacks %q", w)
		}
	}
	if strings.Contains(body, `id="publish"`) {
		t.Error("next version offers direct publishing")
	}
	if res, _ := f.do(t, as(form("POST", "/kb/docs/"+next+"/submit", nil), "ann")); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	ans, err := f.kb.Answer(context.Background(), "How long does shipping take?", retrieval.AnswerOptions{})
	if err != nil || !strings.Contains(ans.Text, "3 to 5") {
		t.Errorf("while in review the answer is %+v, %v; want the published 3 to 5 days", ans, err)
	}
	res, _ = f.do(t, as(form("POST", "/kb/docs/"+next+"/approve", nil), "bob"))
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/kb/docs/"+live) {
		t.Fatalf("approve: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if d := f.doc(t, live); d.Status != tandem.DocumentPublished || d.Version != 2 || !strings.Contains(d.Body, "2 to 4") {
		t.Errorf("after approval: %s v%d %q", d.Status, d.Version, d.Body)
	}
	ans, err = f.kb.Answer(context.Background(), "How long does shipping take?", retrieval.AnswerOptions{})
	if err != nil || !strings.Contains(ans.Text, "2 to 4") {
		t.Errorf("after approval the answer is %+v, %v", ans, err)
	}
}

// TestReviewUpload: with review required an upload cannot publish; without publishing it
// lands as drafts to submit.
func TestReviewUpload(t *testing.T) {
	t.Parallel()
	f := setupReview(t, kb.Config{RequireReview: review.Always(true)})
	faq := []byte("question,answer\nDo you ship abroad?,Yes to 40 countries.\n")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, as(upload(t, "faq.csv", faq, map[string]string{"collection": "demo", "publish": "on"}), "ann"))
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "needs review") {
		t.Errorf("publishing upload with review required: %d %s, want 403 needs review", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, as(upload(t, "faq.csv", faq, map[string]string{"collection": "demo"}), "ann"))
	if rec.Code != http.StatusSeeOther {
		t.Errorf("draft upload: %d %s, want 303 to the job", rec.Code, rec.Body)
	}
}
