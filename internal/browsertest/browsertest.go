// Package browsertest starts headless Chromium for browser tests (chromedp). The browser is
// found at $TANDEM_CHROMIUM or /usr/bin/chromium; when it is missing the test is skipped, or
// fails when TANDEM_REQUIRE_BROWSER=1 (as `make test` sets). Each test gets a fresh profile
// and a browser that is closed in t.Cleanup. The browser is told not to reach the network on
// its own (no background networking, component updates, sync or QUIC), so tests only talk to
// the local servers they start.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultExecPath is where the browser is looked for when TANDEM_CHROMIUM is unset.
const DefaultExecPath = "/usr/bin/chromium"

// Timeout bounds one test's browser session, so a page that never reaches the awaited state
// fails the test instead of hanging it. It is a guard, not a speed assertion.
const Timeout = 2 * time.Minute

// ExecPath returns the browser executable: $TANDEM_CHROMIUM or DefaultExecPath.
func ExecPath() string {
	if p := strings.TrimSpace(os.Getenv("TANDEM_CHROMIUM")); p != "" {
		return p
	}
	return DefaultExecPath
}

// New starts a headless browser for t and returns a chromedp context for one tab in it;
// extra options (flags) are added to the defaults. The browser and its profile directory
// are removed in t.Cleanup. When the browser is missing, New calls t.Skip, or t.Fatal when
// TANDEM_REQUIRE_BROWSER=1.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := ExecPath()
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		msg := "no browser at " + path + " (set TANDEM_CHROMIUM)"
		if err != nil {
			msg += ": " + err.Error()
		}
		if os.Getenv("TANDEM_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	profile := t.TempDir() // removed after the browser is gone: cleanups run last-in first-out

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1024, 768),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("no-pings", true),
	}
	opts = append(opts, extra...)
	base, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
	})
	// Start the browser now, so a browser that cannot start fails here with its reason.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start browser %s: %v", path, err)
	}
	return ctx
}

// Screenshot saves a PNG of the whole page to path (for debugging a test; view it with any
// image viewer). Failures are reported with t.Error so the test's own result stays visible.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot saved to %s", path)
}

// ScreenshotOnFailure registers a cleanup that saves a screenshot of the page into the
// system temporary folder when t has failed, and logs where it went.
func ScreenshotOnFailure(t testing.TB, ctx context.Context) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() || ctx.Err() != nil {
			return
		}
		name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".png"
		Screenshot(t, ctx, filepath.Join(os.TempDir(), name))
	})
}

// CountPolls makes the page in ctx count every timer it starts and request it makes from
// now on; Polls reads the count, so a test can prove a page is not polling.
func CountPolls(t testing.TB, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
  window.__polls = 0;
  ["setTimeout", "setInterval", "fetch"].forEach(function (name) {
    var orig = window[name];
    window[name] = function () { window.__polls++; return orig.apply(this, arguments); };
  });
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function () { window.__polls++; return send.apply(this, arguments); };
  return true;
}())`)); err != nil {
		t.Fatalf("count the page's timers and requests: %v", err)
	}
}

// Polls returns how many timers and requests the page started since CountPolls.
func Polls(t testing.TB, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__polls`))
	if err != nil {
		t.Fatalf("read the page's poll count: %v", err)
	}
	return n
}
