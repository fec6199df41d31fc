package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tandemhq/tandem/internal/browsertest"
)

// widgetPart selects an element of the widget's shadow root on the host page.
func widgetPart(css string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector("tandem-widget").shadowRoot.querySelector(` + fmt.Sprintf("%q", css) + `)`)
}

// hostSite is a company's site on another origin than the Tandem server: a page with the
// widget's snippet, a strict CSP of its own and a stylesheet that would hide and recolour
// the widget's buttons if its CSS leaked into the widget.
func hostSite(t *testing.T, tandem *string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self' "+*tandem+"; frame-src "+*tandem)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Shop</title><link rel="stylesheet" href="/shop.css">
<script src="/before.js"></script></head><body><h1>Our shop</h1><button id="buy">Buy</button>
<script src="%s/widget.js" data-bot="demo" data-title="Shop help" data-color="#0a7d45" data-position="left" async></script>
</body></html>`, *tandem)
	})
	mux.HandleFunc("GET /shop.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, `button, iframe, div { display: none !important; } * { color: red !important; }`)
	})
	mux.HandleFunc("GET /before.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `window.__globals = Object.getOwnPropertyNames(window);`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// httptest listens on 127.0.0.1: as "localhost" the host page is another site than the
	// Tandem server, so the browser treats the iframe as cross-site (no Lax cookies).
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

// frameTarget waits for the widget's iframe, a separate target (Chromium runs a cross-site
// iframe in its own process), that is not one of skip, and returns a context attached to it.
func frameTarget(t *testing.T, ctx context.Context, prefix string, skip ...target.ID) (context.Context, target.ID) {
	t.Helper()
	var id target.ID
	for id == "" {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatalf("find the widget's iframe: %v", err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) && !slices.Contains(skip, info.TargetID) {
				id = info.TargetID
			}
		}
		if id == "" {
			if err := chromedp.Do(ctx, chromedp.Sleep(50*time.Millisecond)); err != nil {
				t.Fatalf("find the widget's iframe: %v", err)
			}
		}
	}
	frameCtx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	t.Cleanup(cancel)
	return frameCtx, id
}

// TestWidgetBrowser: a company's page on another origin shows the widget; the visitor opens
// it, asks, sees the answer in the iframe, closes it with Escape, gets an unread badge when
// an agent replies, and after a reload of the host page finds the conversation again.
func TestWidgetBrowser(t *testing.T) {
	t.Parallel()
	var tandemURL string
	host := hostSite(t, &tandemURL)
	f, bus := setupWebChat(t, func(o *options) { o.cfg.EmbedOrigins = []string{host} })
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	tandemURL = ts.URL
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)
	problems := browsertest.Console(t, ctx)

	launcher := widgetPart(".launcher")
	err := chromedp.Do(ctx,
		chromedp.Navigate(host+"/"),
		chromedp.WaitVisible(launcher),
		chromedp.Click(launcher),
		chromedp.WaitVisible(widgetPart("iframe")),
	)
	if err != nil {
		t.Fatalf("open the widget: %v", err)
	}
	state := func() map[string]any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(function () {
  var w = document.querySelector("tandem-widget"), s = w.shadowRoot, l = s.querySelector(".launcher");
  var b = s.querySelector(".badge");
  return {label: l.getAttribute("aria-label"), expanded: l.getAttribute("aria-expanded"), open: !s.querySelector(".panel").hidden,
    badge: b.hidden ? "" : b.textContent, focus: document.activeElement === w && s.activeElement ? s.activeElement.className || s.activeElement.tagName : "",
    left: l.getBoundingClientRect().left, color: getComputedStyle(l).backgroundColor,
    globals: Object.getOwnPropertyNames(window).filter(function (n) { return n !== "__globals" && window.__globals.indexOf(n) < 0; })};
}())`))
		if err != nil {
			t.Fatalf("read the widget: %v", err)
		}
		return v
	}
	got := state()
	if got["expanded"] != "true" || !got["open"].(bool) || got["focus"] != "IFRAME" || !strings.Contains(got["label"].(string), "Shop help") {
		t.Errorf("opened widget = %v; want the panel open, aria-expanded, focus in the iframe, labelled by data-title", got)
	}
	if got["left"].(float64) > 100 || got["color"] != "rgb(10, 125, 69)" {
		t.Errorf("launcher at x=%v in %v; want data-position left and data-color, untouched by the host page's CSS", got["left"], got["color"])
	}
	if g := fmt.Sprint(got["globals"]); g != "[TandemWidget]" {
		t.Errorf("globals added to the host page: %s, want only TandemWidget", g)
	}

	frame, firstFrame := frameTarget(t, ctx, ts.URL+"/embed?bot=demo")
	const question = "How long does shipping take?"
	err = chromedp.Do(frame,
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement.id === "message"`),
		chromedp.SendKeys(chromedp.ID("message"), question),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-bot .msg-text")),
	)
	if err != nil {
		t.Fatalf("ask in the iframe (its input focused on open): %v", err)
	}
	reply := text(t, frame, "reply", chromedp.Text(chromedp.CSS(".msg-bot .msg-text")))
	if want := "Standard shipping takes 3–5 business days."; reply != want {
		t.Errorf("reply in the iframe = %q, want %q", reply, want)
	}
	stored := text(t, frame, "stored token", chromedp.Evaluate[string](`localStorage.getItem("tandem.visitor") || ""`))
	if stored == "" {
		t.Errorf("the embed kept no visitor token in its localStorage")
	}
	visitor := f.engine.lastInbound().ExternalID

	// Escape in the iframe closes the panel and gives focus back to the launcher.
	if err := chromedp.Do(frame, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatalf("escape: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("tandem-widget").shadowRoot.querySelector(".panel").hidden`)); err != nil {
		t.Fatalf("wait for the panel to close: %v", err)
	}
	if got := state(); got["expanded"] != "false" || got["focus"] != "launcher" || got["badge"] != "" {
		t.Errorf("after Escape: %v; want closed, focus on the launcher, no badge", got)
	}

	// An agent replies while the panel is closed: the launcher shows it as unread.
	visitorStore{f.engine}.agentReply(t, bus, "conv-1", "Hi, this is Ann.")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(widgetPart(".badge"))); err != nil {
		t.Fatalf("unread badge: %v", err)
	}
	if got := state(); got["badge"] != "1" || !strings.Contains(got["label"].(string), "1 unread message") {
		t.Errorf("after the agent's reply: %v; want a badge of 1 and it in the launcher's label", got)
	}

	// A reload of the host page keeps the visitor: the transcript is back, without a cookie.
	err = chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(launcher),
		chromedp.Click(launcher),
		chromedp.WaitVisible(widgetPart("iframe")),
	)
	if err != nil {
		t.Fatalf("reload the host page: %v", err)
	}
	frame, _ = frameTarget(t, ctx, ts.URL+"/embed?bot=demo", firstFrame)
	if err := chromedp.Do(frame, chromedp.WaitVisible(chromedp.CSS(".msg-agent .msg-text"))); err != nil {
		t.Fatalf("transcript after reload: %v", err)
	}
	n, err := chromedp.Run(frame, chromedp.Evaluate[int](`document.querySelectorAll(".msg-customer, .msg-bot, .msg-agent").length`))
	if err != nil || n != 3 {
		t.Errorf("after reload the iframe shows %d messages (%v), want the question, the answer and the agent's reply", n, err)
	}
	err = chromedp.Do(frame,
		chromedp.SendKeys(chromedp.ID("message"), "thanks"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"msg-customer")][2]`)),
	)
	if err != nil {
		t.Fatalf("say thanks: %v", err)
	}
	if got := f.engine.lastInbound(); got.ExternalID != visitor || got.ConversationID != "conv-1" {
		t.Errorf("after reload the visitor chatted as %q in %q, want %q in conv-1", got.ExternalID, got.ConversationID, visitor)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the host page reported problems: %q", p)
	}
}
