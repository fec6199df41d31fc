package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/browsertest"
)

// TestInboxLiveBrowser: the agent's inbox pages follow their event stream in headless
// Chromium, with the chat page in a second tab. The queue page shows the customer's new
// ticket, and the ticket page the customer's new message, without reloading and without a
// timer: the only request either page makes is the one refetch its event asked for. The
// half-typed reply stays as typed. Customer and agent each see the other typing.
func TestInboxLiveBrowser(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	inbox := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, inbox)
	chat, cancel := chromedp.NewContext(inbox) // a second tab
	t.Cleanup(cancel)

	live := chromedp.WaitVisible(chromedp.CSS(`body[data-stream="on"]`))
	err := chromedp.Do(inbox,
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "ann@example.com"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("queue-empty")),
		live,
	)
	if err != nil {
		t.Fatalf("sign in to the inbox: %v", err)
	}
	if err := chromedp.Do(chat, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("message"))); err != nil {
		t.Fatalf("open the chat page: %v", err)
	}

	// watch marks the inbox page and counts its timers and requests from now on.
	watch := func() {
		t.Helper()
		browsertest.CountPolls(t, inbox)
		if _, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
			t.Fatal(err)
		}
	}
	// check reports whether the page was reloaded or did more than the one refetch.
	check := func(what string) {
		t.Helper()
		if same, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`window.__samePage === true`)); err != nil || !same {
			t.Errorf("%s: the inbox page was reloaded (%v)", what, err)
			return
		}
		if polls := browsertest.Polls(t, inbox); polls != 1 {
			t.Errorf("%s: the inbox page started %d timers or requests, want 1 (the refetch the event asked for)", what, polls)
		}
	}

	watch()
	err = chromedp.Do(chat,
		chromedp.SendKeys(chromedp.ID("message"), "I want to talk to a human"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-system")),
	)
	if err != nil {
		t.Fatalf("ask for a human: %v", err)
	}
	if err := chromedp.Do(inbox, chromedp.WaitVisible(chromedp.CSS("#queue a.ticket-link"))); err != nil {
		t.Fatalf("the new ticket in the queue: %v", err)
	}
	check("new ticket")

	const question = "Are you still there?"
	err = chromedp.Do(inbox,
		chromedp.Click(chromedp.CSS("a.ticket-link")),
		chromedp.WaitVisible(chromedp.ID("claim")),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("reply-text")),
		live,
	)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	// Each side sees the other typing.
	if err := chromedp.Do(chat, chromedp.SendKeys(chromedp.ID("message"), question)); err != nil {
		t.Fatalf("customer types: %v", err)
	}
	if err := chromedp.Do(inbox, chromedp.WaitVisible(chromedp.ID("customer-typing"))); err != nil {
		t.Fatalf("the customer's typing on the ticket page: %v", err)
	}
	const draft = "Let me check your ord"
	if err := chromedp.Do(inbox, chromedp.SendKeys(chromedp.ID("reply-text"), draft)); err != nil {
		t.Fatalf("agent types: %v", err)
	}
	if err := chromedp.Do(chat, chromedp.WaitVisible(chromedp.Search(`//p[@id="status"][contains(.,"agent is typing")]`))); err != nil {
		t.Fatalf("the agent's typing on the chat page: %v", err)
	}

	watch()
	if err := chromedp.Do(chat, chromedp.Click(chromedp.ID("send"))); err != nil {
		t.Fatalf("customer's message: %v", err)
	}
	err = chromedp.Do(inbox,
		chromedp.WaitVisible(chromedp.Search(
			`//ol[@id="timeline"]/li[contains(@class,"msg-customer")]/div[@class="msg-text"][.="`+question+`"]`)),
		chromedp.WaitNotVisible(chromedp.ID("customer-typing")),
	)
	if err != nil {
		t.Fatalf("the customer's message on the ticket page: %v", err)
	}
	check("customer's message")
	if got, err := chromedp.Run(inbox, chromedp.Value(chromedp.ID("reply-text"))); err != nil || got != draft {
		t.Errorf("reply draft after the update = %q (%v), want %q", got, err, draft)
	}
}
