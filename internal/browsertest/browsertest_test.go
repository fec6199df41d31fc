package browsertest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/browsertest"
)

func TestNew(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>browsertest</title><p id="p">hello</p>`)
	}))
	t.Cleanup(ts.Close)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("p"))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "browsertest" {
		t.Errorf("title = %q, %v; want %q", title, err, "browsertest")
	}
	path := filepath.Join(t.TempDir(), "page.png")
	browsertest.Screenshot(t, ctx, path)
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG (%d bytes)", len(png))
	}
}

func TestNewWithoutBrowser(t *testing.T) {
	t.Setenv("TANDEM_CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	t.Setenv("TANDEM_REQUIRE_BROWSER", "")
	var skipped bool
	t.Run("Skip", func(t *testing.T) {
		t.Cleanup(func() { skipped = t.Skipped() })
		browsertest.New(t)
		t.Error("New returned without a browser")
	})
	if !skipped {
		t.Error("New did not skip the test when the browser is missing")
	}
}

// TestConsole checks that Console sees a console.error, an uncaught exception and a failed
// request, and nothing on a quiet page.
func TestConsole(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/noisy":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!doctype html><title>noisy</title><img src="/missing.png"><script>console.error("boom"); setTimeout(function () { throw new Error("uncaught"); }, 0);</script><p id="p">noisy</p>`)
		case "/quiet":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!doctype html><title>quiet</title><link rel="icon" href="data:,"><script>console.log("fine")</script><p id="p">quiet</p>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	ctx := browsertest.New(t)
	errs := browsertest.Console(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/quiet"), chromedp.WaitVisible(chromedp.ID("p"))); err != nil {
		t.Fatal(err)
	}
	if got := errs(); len(got) != 0 {
		t.Errorf("quiet page: %q, want no error", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/noisy"), chromedp.WaitVisible(chromedp.ID("p"))); err != nil {
		t.Fatal(err)
	}
	// The exception fires after load: wait for it without a clock, by polling the page.
	var got []string
	for range 100 {
		if got = errs(); len(got) >= 3 {
			break
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
			t.Fatal(err)
		}
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{`console.error: ["boom"]`, "Uncaught Error: uncaught", "404 (Not Found) " + ts.URL + "/missing.png"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors:\n%s\nwant %q among them", all, want)
		}
	}
}
