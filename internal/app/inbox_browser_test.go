package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/browsertest"
)

// TestInboxBrowser drives the whole handoff path of the demo in headless Chromium, with the
// chat page and the inbox open in two tabs of one browser: the customer asks for a human in
// the web chat, the ticket shows in /inbox/, an agent signs in, claims it and replies, the
// reply is pushed to the customer's chat page over its socket (the page runs no timer and
// makes no request meanwhile), the agent gives the conversation back, and the bot answers
// the customer again.
func TestInboxBrowser(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	chat := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, chat)
	inbox, cancel := chromedp.NewContext(chat) // a second tab
	t.Cleanup(cancel)

	err := chromedp.Do(chat,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), "I want to talk to a human"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-system")),
	)
	if err != nil {
		t.Fatalf("ask for a human: %v", err)
	}

	// From now on the chat page counts the timers it starts and requests it makes.
	browsertest.CountPolls(t, chat)
	const reply = "Hi, this is Ann from Acme. I'm looking at your order now."
	err = chromedp.Do(inbox,
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "ann@example.com"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("a.ticket-link")),
	)
	if err != nil {
		t.Fatalf("sign in to the inbox: %v", err)
	}
	reason, err := chromedp.Run(inbox, chromedp.Text(chromedp.CSS("td.reason")))
	if err != nil {
		t.Fatalf("queue reason: %v", err)
	}
	if !strings.Contains(reason, "asked for a human") {
		t.Errorf("queued ticket's reason = %q, want the customer's request", reason)
	}
	err = chromedp.Do(inbox,
		chromedp.Click(chromedp.CSS("a.ticket-link")),
		chromedp.WaitVisible(chromedp.ID("claim")),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("reply-text")),
		chromedp.SendKeys(chromedp.ID("reply-text"), reply),
		chromedp.Click(chromedp.ID("send-reply")),
		chromedp.WaitVisible(chromedp.CSS(".timeline .msg-agent")),
	)
	if err != nil {
		t.Fatalf("claim and reply: %v", err)
	}
	status, err := chromedp.Run(inbox, chromedp.Text(chromedp.ID("ticket-status")))
	if err != nil || strings.TrimSpace(status) != "claimed" {
		t.Errorf("ticket status = %q, %v; want claimed", status, err)
	}

	// The socket pushes the claim and the reply; the page does not poll.
	if err := chromedp.Do(chat, chromedp.WaitVisible(chromedp.CSS(".msg-agent .msg-text"))); err != nil {
		t.Fatalf("agent reply in the chat page: %v", err)
	}
	if polls := browsertest.Polls(t, chat); polls != 0 {
		t.Errorf("chat page started %d timers or requests before the agent's reply showed, want 0", polls)
	}
	got, err := chromedp.Run(chat, chromedp.Text(chromedp.CSS(".msg-agent .msg-text")))
	if err != nil || got != reply {
		t.Errorf("chat page shows the agent's reply as %q (%v), want %q", got, err, reply)
	}

	err = chromedp.Do(inbox,
		chromedp.Click(chromedp.ID("give-back")),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="notice"][contains(.,"Given back")]`)),
	)
	if err != nil {
		t.Fatalf("give back: %v", err)
	}
	if status, err := chromedp.Run(inbox, chromedp.Text(chromedp.ID("ticket-status"))); err != nil || strings.TrimSpace(status) != "returned" {
		t.Errorf("ticket status after giving back = %q, %v; want returned", status, err)
	}
	err = chromedp.Do(chat,
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"msg-system")][contains(.,"is back")]`)),
		chromedp.SendKeys(chromedp.ID("message"), "How long does shipping take?"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-bot .citation a")),
	)
	if err != nil {
		t.Fatalf("bot answers again after the handoff: %v", err)
	}
}
