package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/internal/config"
)

// TestWidgetDemoBrowser: the real app (SQLite store, demo bot) behind the widget on a company
// page of another site (web_chat.embed_origins): the visitor asks in the iframe, gets the
// knowledge base's answer, reloads the company page and finds the conversation again; the
// demo's own sample page at /demo/shop shows the widget too.
func TestWidgetDemoBrowser(t *testing.T) {
	t.Parallel()
	var base string
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Shop</title><h1>Shop</h1><script src="%s/widget.js" data-bot="demo" async></script>`, base)
	}))
	t.Cleanup(shop.Close)
	// 127.0.0.1 and localhost are different sites: the iframe is cross-site.
	shopURL := strings.Replace(shop.URL, "127.0.0.1", "localhost", 1)
	base = start(t, "", func(c *config.Config) { c.WebChat.EmbedOrigins = []string{shopURL} })

	for path, want := range map[string]string{"/embed?bot=demo": "frame-ancestors 'self' " + shopURL + "", "/": "frame-ancestors 'none'"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, want) {
			t.Errorf("%s: CSP %q, want it to end with %q", path, csp, want)
		}
	}

	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)
	const helpfulButton = `.msg-bot .feedback button[aria-label="Helpful"]`
	launcher := chromedp.JSPath(`document.querySelector("tandem-widget").shadowRoot.querySelector(".launcher")`)
	openWidget := func(skip target.ID) target.ID {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(shopURL+"/"), chromedp.WaitVisible(launcher), chromedp.Click(launcher)); err != nil {
			t.Fatalf("open the widget on the company page: %v", err)
		}
		return iframeTarget(t, ctx, base+"/embed?", skip)
	}
	first := openWidget("")
	frame, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(first), chromedp.WithDetachOnCancel())
	err := chromedp.Do(frame,
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), "How long does shipping take?"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-bot .citation a")),
		// "Was this helpful?" works in the iframe too.
		chromedp.Click(chromedp.CSS(helpfulButton)),
		chromedp.WaitVisible(chromedp.CSS(helpfulButton+`[aria-pressed="true"]`)),
	)
	cancel()
	if err != nil {
		t.Fatalf("ask in the widget: %v", err)
	}

	second := openWidget(first)
	frame, cancel = chromedp.NewContext(ctx, chromedp.WithTargetID(second), chromedp.WithDetachOnCancel())
	defer cancel()
	if err := chromedp.Do(frame, chromedp.WaitVisible(chromedp.CSS(".msg-bot .citation a")),
		chromedp.WaitVisible(chromedp.CSS(helpfulButton+`[aria-pressed="true"]`))); err != nil {
		t.Fatalf("transcript (with the vote) after reloading the company page: %v", err)
	}
	reply, err := chromedp.Run(frame, chromedp.Text(chromedp.CSS(".msg-bot .msg-text")))
	if err != nil || !strings.Contains(reply, "business days") {
		t.Errorf("after reload the widget shows %q (%v), want the shipping answer", reply, err)
	}

	// The demo's sample page: same origin, so the iframe's document is reachable from it.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/demo/shop"), chromedp.WaitVisible(launcher), chromedp.Click(launcher),
		chromedp.Poll[chromedp.Void](`(function () {
  var f = document.querySelector("tandem-widget").shadowRoot.querySelector("iframe");
  var d = f && f.contentDocument;
  return d && d.querySelector("#chat[data-connected=true]");
}())`)); err != nil {
		t.Fatalf("the widget on /demo/shop: %v", err)
	}
	res, err := http.Get(base + "/demo/shop")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if !strings.Contains(string(b), `/widget.js" data-bot="demo" async&gt;`) {
		t.Errorf("/demo/shop does not show the snippet: %s", b)
	}
}

// iframeTarget waits for a cross-site iframe target whose URL starts with prefix, other
// than skip (Chromium runs such an iframe as its own target).
func iframeTarget(t *testing.T, ctx context.Context, prefix string, skip target.ID) target.ID {
	t.Helper()
	for {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatalf("list targets: %v", err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) && info.TargetID != skip {
				return info.TargetID
			}
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(50*time.Millisecond)); err != nil {
			t.Fatalf("wait for the widget's iframe: %v", err)
		}
	}
}
