package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/evals/conversation"
	"github.com/tandemhq/tandem/evals/report"
	"github.com/tandemhq/tandem/internal/browsertest"
)

// TestReportsBrowser opens the run and compare reports from file:// URLs in headless
// Chromium, as someone opening a CI artifact would: they render without a console error or
// a request, the summary numbers are on screen, the charts have drawn bars, and the hostile
// test name is shown as text.
func TestReportsBrowser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	next := fixture()
	next.Metrics.LatencyP95MS = 20
	var run, diff bytes.Buffer
	if err := report.RunHTML(&run, fixture()); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffHTML(&diff, "base.json", "new.json", conversation.Compare(fixture(), next)); err != nil {
		t.Fatal(err)
	}
	for name, page := range map[string][]byte{"run.html": run.Bytes(), "diff.html": diff.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), page, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)
	consoleErrs := browsertest.Console(t, ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(dir, "run.html")),
		chromedp.WaitVisible(chromedp.ID("summary"))); err != nil {
		t.Fatalf("open run report: %v", err)
	}
	for sel, want := range map[string]string{
		"#tests dd":           "2/4",
		"#turns dd":           "4/7",
		"#intent-accuracy dd": "0.250 over 4 turns",
		"#latency":            "12.2 ms max",
		"#failures h3":        hostile,
	} {
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	// Drawn, not only present: every test file's bar and the histogram have a size on screen.
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[
  Array.from(document.querySelectorAll("#files g.bar")).filter(g => g.getBBox().width > 0).length,
  Array.from(document.querySelectorAll("#latency-histogram rect.bin")).filter(r => r.getBBox().height > 0).length,
  document.querySelectorAll("script").length,
  performance.getEntriesByType("resource").length]`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{4, 4, 0, 0}; !slices.Equal(drawn, want) {
		t.Errorf("drawn bars, histogram bins, scripts, requests = %v, want %v", drawn, want)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(dir, "diff.html")),
		chromedp.WaitVisible(chromedp.ID("metrics"))); err != nil {
		t.Fatalf("open compare report: %v", err)
	}
	colour, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["latency_p95_ms", "latency_p50_ms"].map(m =>
  getComputedStyle(Array.from(document.querySelectorAll("#metrics tr")).find(tr => tr.querySelector("code")?.textContent === m).querySelector("td.n:nth-child(4)")).color)`))
	if err != nil {
		t.Fatal(err)
	}
	// Slower p95 is worse (red); the unchanged p50 is grey.
	if want := []string{"rgb(198, 40, 40)", "rgb(90, 101, 112)"}; !slices.Equal(colour, want) {
		t.Errorf("p95 and p50 change colours = %q, want %q", colour, want)
	}
	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
