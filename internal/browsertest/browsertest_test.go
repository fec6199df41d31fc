package browsertest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
