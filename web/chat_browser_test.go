package web_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/browsertest"
)

var screenshot = flag.String("screenshot", "", "save a screenshot of the chat page after the browser test to this PNG path")

// text runs a chromedp action that returns a string, failing the test on error.
func text(t *testing.T, ctx context.Context, what string, a chromedp.Action[string]) string {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestChatPageBrowser drives the chat page in headless Chromium against the scripted engine:
// ask, see the reply with its citation link, tap a quick reply, reload and see the transcript.
func TestChatPageBrowser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)

	const question = "How long does shipping take?"
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/?bot=demo"),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), question),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-bot .citation a")),
	)
	if err != nil {
		t.Fatalf("ask: %v", err)
	}
	reply := text(t, ctx, "reply", chromedp.Text(chromedp.CSS(".msg-bot .msg-text")))
	citeText := text(t, ctx, "citation", chromedp.Text(chromedp.CSS(".msg-bot .citation a")))
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(".msg-bot .citation a"), "href"))
	if err != nil {
		t.Fatalf("citation href: %v", err)
	}
	quick := text(t, ctx, "quick reply", chromedp.Text(chromedp.CSS(".msg-bot .quick-reply")))
	visitor := text(t, ctx, "visitor", chromedp.Evaluate[string](`localStorage.getItem("tandem.visitor") || ""`))

	if want := "Standard shipping takes 3–5 business days."; reply != want {
		t.Errorf("reply = %q, want %q", reply, want)
	}
	if citeText != shippingCitation.Title || href.Value != shippingCitation.URL {
		t.Errorf("citation = %q -> %q, want %q -> %q", citeText, href.Value, shippingCitation.Title, shippingCitation.URL)
	}
	if quick != "Track my order" {
		t.Errorf("quick reply = %q, want %q", quick, "Track my order")
	}
	in := f.engine.lastInbound()
	if in.Text != question || !strings.HasPrefix(visitor, "web-") || in.ExternalID != visitor {
		t.Errorf("engine got text %q from %q; want %q from the stored visitor id %q", in.Text, in.ExternalID, question, visitor)
	}

	// The quick reply sends its payload and continues the conversation.
	const secondBot = `//li[contains(@class,"msg-bot")][2]`
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".msg-bot .quick-reply")),
		chromedp.WaitVisible(chromedp.Search(secondBot)),
	)
	if err != nil {
		t.Fatalf("quick reply: %v", err)
	}
	second := text(t, ctx, "second reply", chromedp.Text(chromedp.Search(secondBot+`/div[@class="msg-text"]`)))
	if want := "Please give me your order number."; second != want {
		t.Errorf("second reply = %q, want %q", second, want)
	}
	if in2 := f.engine.lastInbound(); in2.Text != "Where is my order?" || in2.ConversationID == "" {
		t.Errorf("quick reply sent %+v, want its payload in the same conversation", in2)
	}

	// A reload restores the transcript from GET /api/v1/conversations/{id}.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.Search(secondBot))); err != nil {
		t.Fatalf("reload: %v", err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".msg-customer").length`))
	if err != nil {
		t.Fatalf("count messages: %v", err)
	}
	if n != 2 {
		t.Errorf("after reload, %d customer messages shown, want 2", n)
	}
	if *screenshot != "" {
		browsertest.Screenshot(t, ctx, *screenshot)
	}
}
