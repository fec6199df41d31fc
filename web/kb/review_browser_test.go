package kb_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/web"
	"github.com/tandemhq/tandem/web/kb"
)

// signedIn stands in for staff sign-in: the "who" cookie names the editor (set by /as).
func signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("who"); err == nil {
			r = as(r, c.Value)
		}
		next.ServeHTTP(w, r)
	})
}

// TestReviewBrowser drives review before publish in headless Chromium behind the real web
// server: Ann submits a draft, Bob requests changes from the review page, Ann reads the
// comment and submits again, Bob approves it from the document page and it is published.
func TestReviewBrowser(t *testing.T) {
	t.Parallel()
	f := setupReview(t, kb.Config{RequireReview: review.Always(true)})
	srv := web.NewServer(web.Config{Registerer: prometheus.NewRegistry()}, web.Deps{Engine: noChat{}, Conversations: f.store})
	srv.Mount("/kb/", signedIn(f.h))
	srv.Mount("GET /as", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.URL.Query().Get("who"), Path: "/"})
		http.Redirect(w, r, "/kb/", http.StatusSeeOther)
	}))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)
	doc := ts.URL + "/kb/docs/" + returnsID
	signIn := func(who string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/as?who="+who), chromedp.WaitVisible(chromedp.CSS("table.docs"))); err != nil {
			t.Fatalf("sign in as %s: %v", who, err)
		}
	}
	status := func(what string) string {
		return text(t, ctx, what, chromedp.Text(chromedp.ID("doc-status")))
	}

	signIn("ann")
	err := chromedp.Do(ctx,
		chromedp.Navigate(doc),
		chromedp.WaitVisible(chromedp.ID("submit-review")),
		chromedp.Click(chromedp.ID("submit-review")),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if got := status("status after submit"); got != "in review" {
		t.Errorf("status after submit = %q, want in review", got)
	}
	if got := text(t, ctx, "own review", chromedp.Text(chromedp.ID("cannot-review"))); !strings.Contains(got, "Another editor") {
		t.Errorf("the submitter is offered the review: %q", got)
	}

	signIn("bob")
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/kb/review"),
		chromedp.WaitVisible(chromedp.ID("review-list")),
		chromedp.SetValue(chromedp.CSS(`#review-list textarea[name="comment"]`), "Say who pays the return postage."),
		chromedp.Click(chromedp.CSS(`#review-list .request-changes button`)),
		chromedp.WaitVisible(chromedp.ID("review-empty")),
	)
	if err != nil {
		t.Fatalf("request changes: %v", err)
	}

	signIn("ann")
	err = chromedp.Do(ctx,
		chromedp.Navigate(doc),
		chromedp.WaitVisible(chromedp.ID("review-comment")),
	)
	if err != nil {
		t.Fatalf("read the comment: %v", err)
	}
	if got := text(t, ctx, "comment", chromedp.Text(chromedp.ID("review-comment"))); got != "Say who pays the return postage." {
		t.Errorf("comment = %q", got)
	}
	if got := status("status after changes requested"); got != "draft" {
		t.Errorf("status after changes requested = %q, want draft", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("submit-review")),
		chromedp.WaitVisible(chromedp.ID("cannot-review")),
	)
	if err != nil {
		t.Fatalf("submit again: %v", err)
	}
	signIn("bob")
	err = chromedp.Do(ctx,
		chromedp.Navigate(doc),
		chromedp.WaitVisible(chromedp.CSS("button.approve")),
		chromedp.Click(chromedp.CSS("button.approve")),
		chromedp.WaitVisible(chromedp.ID("unpublish")),
	)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if got := status("status after approval"); got != "published" {
		t.Errorf("status after approval = %q, want published", got)
	}
	if got := text(t, ctx, "reviewer", chromedp.Text(chromedp.ID("review-reviewed"))); !strings.Contains(got, "agent:bob") {
		t.Errorf("reviewed = %q", got)
	}
}
