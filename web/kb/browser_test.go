package kb_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/web"
	"github.com/tandemhq/tandem/web/kb"
)

var screenshot = flag.String("screenshot", "", "save a screenshot of the try-a-question page after the browser test to this PNG path")

// noChat is the web server's engine in the browser test: the chat is not under test.
type noChat struct{}

func (noChat) HandleMessage(context.Context, tandem.Inbound) (*tandem.Turn, error) {
	return nil, tandem.Errorf(tandem.ENOTFOUND, "no bots in this test")
}

func text(t *testing.T, ctx context.Context, what string, a chromedp.Action[string]) string {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return strings.TrimSpace(v)
}

// TestEditorBrowser drives the editor in headless Chromium behind the real web server (its
// middleware and strict Content-Security-Policy): open the list, edit a draft article,
// publish it, try a question and see the passage and answer, then upload a file and watch
// the streamed progress finish.
func TestEditorBrowser(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{})
	srv := web.NewServer(web.Config{Registerer: prometheus.NewRegistry()}, web.Deps{Engine: noChat{}, Conversations: f.store})
	srv.Mount("/kb/", f.h)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)

	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/kb/"),
		chromedp.WaitVisible(chromedp.CSS("table.docs")),
		chromedp.Click(chromedp.Search(`//a[@class="doc-link"][text()="Returns and refunds"]`)),
		chromedp.WaitVisible(chromedp.ID("doc-title")),
		chromedp.Click(chromedp.ID("edit")),
		chromedp.WaitVisible(chromedp.ID("body")),
		chromedp.SetValue(chromedp.ID("body"), "## Returning an item\nYou can return any item within 60 days of delivery, free of charge.\n\n## Refunds\nRefunds reach your card within 5 days."),
		chromedp.SetValue(chromedp.ID("tags"), "returns, billing, policy"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	if got := text(t, ctx, "version", chromedp.Text(chromedp.ID("doc-version"))); got != "v2" {
		t.Errorf("version after edit = %q, want v2", got)
	}
	if got := text(t, ctx, "status", chromedp.Text(chromedp.ID("doc-status"))); got != "draft" {
		t.Errorf("status after edit = %q, want draft", got)
	}
	if got := text(t, ctx, "body", chromedp.Text(chromedp.ID("doc-body"))); !strings.Contains(got, "60 days") {
		t.Errorf("body after edit = %q", got)
	}

	// Saving the form untouched is a no-op: the textarea gives the body back byte for byte.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("edit")),
		chromedp.WaitVisible(chromedp.ID("body")),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("save unchanged: %v", err)
	}
	if got := text(t, ctx, "notice", chromedp.Text(chromedp.CSS(".notice"))); !strings.HasPrefix(got, "Nothing changed") {
		t.Errorf("notice after an unchanged save = %q", got)
	}
	if got := text(t, ctx, "version", chromedp.Text(chromedp.ID("doc-version"))); got != "v2" {
		t.Errorf("version after an unchanged save = %q, want v2", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("publish")),
		chromedp.WaitVisible(chromedp.ID("unpublish")),
	)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if got := text(t, ctx, "status", chromedp.Text(chromedp.ID("doc-status"))); got != "published" {
		t.Errorf("status after publish = %q, want published", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/kb/try"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "How many days do I have to return an item?"),
		chromedp.Click(chromedp.ID("ask")),
		chromedp.WaitVisible(chromedp.ID("answer")),
	)
	if err != nil {
		t.Fatalf("try: %v", err)
	}
	answer := text(t, ctx, "answer", chromedp.Text(chromedp.ID("answer-text")))
	passage := text(t, ctx, "passage", chromedp.Text(chromedp.CSS(".passage .passage-title")))
	snippet := text(t, ctx, "snippet", chromedp.Text(chromedp.CSS(".passage .snippet")))
	if !strings.Contains(answer, "60 days") {
		t.Errorf("answer = %q, want the edited 60 days", answer)
	}
	if passage != "Returns and refunds" || !strings.Contains(snippet, "60 days") {
		t.Errorf("first passage = %q: %q", passage, snippet)
	}
	shot := *screenshot
	if shot == "" {
		shot = filepath.Join(os.TempDir(), "kb_try.png")
	}
	browsertest.Screenshot(t, ctx, shot)

	// Upload a file and watch the server-sent events bring the progress to its end.
	file := filepath.Join(t.TempDir(), "faq.csv")
	csv := "question,answer\nDo you ship to Canada?,Yes within 7 days.\nDo you sell gift cards?,Yes from 10 to 200 euros.\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/kb/ingest"),
		chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("progress")),
	)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("job").dataset.streamed === "true"`)); err != nil {
		t.Fatalf("wait for the ingest to finish: %v", err)
	}
	status := text(t, ctx, "job status", chromedp.Text(chromedp.ID("job-status")))
	progress := text(t, ctx, "progress", chromedp.Evaluate[string](`(() => { const p = document.getElementById("progress"); return p.value + "/" + p.max })()`))
	if !strings.HasPrefix(status, "Done: 2 added") || progress != "2/2" {
		t.Errorf("job status = %q, progress %s; want Done: 2 added, 2/2", status, progress)
	}
}
