package web_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/memory"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/storage"
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

// TestChatPageBrowser drives the chat page in headless Chromium over the web chat socket
// against the scripted engine: ask, see the reply with its citation link, tap a quick reply,
// reload and see the transcript.
func TestChatPageBrowser(t *testing.T) {
	t.Parallel()
	f, _ := setupWebChat(t)
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
	// The visitor id is in an HttpOnly cookie: the page's script cannot read it.
	cookies := text(t, ctx, "cookies", chromedp.Evaluate[string](`document.cookie`))

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
	if in.Text != question || in.Channel != tandem.ChannelWebChat || !strings.HasPrefix(in.ExternalID, "web-") {
		t.Errorf("engine got %+v; want %q on the web chat from a cookie's visitor id", in, question)
	}
	if strings.Contains(cookies, webchat.CookieName) {
		t.Errorf("the page's script can read the visitor cookie: %q", cookies)
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
	if in2 := f.engine.lastInbound(); in2.Text != "Where is my order?" || in2.ConversationID != "conv-1" || in2.ExternalID != in.ExternalID {
		t.Errorf("quick reply sent %+v, want its payload in the same conversation", in2)
	}

	// A reload restores the transcript from the socket's first frame.
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

// setupWebChat is setup with the web chat socket mounted, as the app does, over the
// scripted engine; the bus is what the inbox would publish to.
func setupWebChat(t *testing.T, opts ...func(*options)) (*fixture, *memory.Bus) {
	t.Helper()
	f := setup(t, opts...)
	bus := memory.New(memory.Config{})
	t.Cleanup(func() { _ = bus.Close() })
	f.srv.Mount("GET "+webchat.Path, webchat.New(webchat.Config{MaxMessageBytes: 4096},
		webchat.Deps{Receiver: f.engine, Store: visitorStore{f.engine}, Events: bus}))
	return f, bus
}

// visitorStore finds the scripted engine's conversations by visitor, as the store does.
type visitorStore struct{ *scriptedEngine }

func (v visitorStore) FindIdentity(ctx context.Context, ch tandem.Channel, ext string) (*tandem.Identity, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, in := range v.received {
		if in.Channel == ch && in.ExternalID == ext {
			return &tandem.Identity{CustomerID: "cust-" + ext, Channel: ch, ExternalID: ext}, nil
		}
	}
	return nil, tandem.Errorf(tandem.ENOTFOUND, "no identity")
}

func (v visitorStore) FindOpenConversation(ctx context.Context, bot, cust string) (*tandem.Conversation, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var best *tandem.Conversation
	for _, c := range v.conversations {
		if c.BotID == bot && c.CustomerID == cust && c.Status != tandem.StatusClosed && (best == nil || c.ID > best.ID) {
			best = c
		}
	}
	if best == nil {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no open conversation")
	}
	cc := *best
	return &cc, nil
}

// agentReply stores an agent's reply in conv and hands the conversation to a human, as
// the inbox does, and publishes both.
func (v visitorStore) agentReply(t *testing.T, bus events.Bus, conv, text string) {
	t.Helper()
	v.mu.Lock()
	c := v.conversations[conv]
	c.Status = tandem.StatusHandoff
	id := fmt.Sprintf("m%d", len(v.messages[conv])+1)
	v.messages[conv] = append(v.messages[conv], tandem.Message{ID: id, ConversationID: conv, Role: tandem.RoleAgent,
		Text: text, CreatedAt: c.CreatedAt.Add(time.Minute)})
	v.mu.Unlock()
	for _, e := range []events.Event{{Topic: conv, Kind: events.KindStatus}, {Topic: conv, Kind: events.KindMessage, MessageID: id}} {
		if err := bus.Publish(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// PutAnswerFeedback: the scripted chat keeps no votes (the app's tests rate answers).
func (v visitorStore) PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error {
	return tandem.Errorf(tandem.ENOTFOUND, "message %q not found", f.MessageID)
}

func (v visitorStore) ListAnswerFeedback(ctx context.Context, f storage.AnswerFeedbackFilter) ([]storage.RatedAnswer, error) {
	return nil, nil
}

var _ webchat.Store = visitorStore{}

// TestChatPageLiveBrowser: an agent's reply published on the events bus appears in the
// open chat page while the page runs no timer and makes no request: the socket pushed it.
func TestChatPageLiveBrowser(t *testing.T) {
	t.Parallel()
	f, bus := setupWebChat(t)
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)

	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/?bot=demo"),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), "human"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-bot")),
	)
	if err != nil {
		t.Fatalf("ask for a human: %v", err)
	}
	browsertest.CountPolls(t, ctx)
	const reply = "Hi, this is Ann."
	visitorStore{f.engine}.agentReply(t, bus, "conv-1", reply)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".msg-agent .msg-text"))); err != nil {
		t.Fatalf("agent reply: %v", err)
	}
	got := text(t, ctx, "agent reply", chromedp.Text(chromedp.CSS(".msg-agent .msg-text")))
	polls := browsertest.Polls(t, ctx)
	if got != reply || polls != 0 {
		t.Errorf("page shows %q after %d timers or requests; want %q pushed with none", got, polls, reply)
	}
	notice := text(t, ctx, "notice", chromedp.Text(chromedp.CSS(".msg-system")))
	if !strings.Contains(notice, "member of our team") {
		t.Errorf("notice = %q, want the human-joined notice", notice)
	}
}
