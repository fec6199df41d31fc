package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/storage"
)

// TestNotesBrowser: in headless Chromium, agent Ann adds an internal note to a ticket and
// agent Bob, on the same ticket page in another browser session, sees it appear without
// reloading, marked as a note. The customer's chat page (a third tab) never shows it: not
// live, not after Ann's next reply reached it, not in the transcript a reload reads; nor
// does the transcript API.
func TestNotesBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, base := startApp(t, "")
	ann := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ann)
	chat, cancelChat := chromedp.NewContext(ann) // a tab beside Ann's
	t.Cleanup(cancelChat)
	bob, cancelBob := chromedp.NewContext(ann, chromedp.WithNewBrowserContext()) // Bob's own cookies
	t.Cleanup(cancelBob)
	browsertest.ScreenshotOnFailure(t, bob)

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
	live := chromedp.WaitVisible(chromedp.CSS(`body[data-stream="on"]`))
	openTicket := func(tab context.Context, email string) error {
		return chromedp.Do(tab,
			chromedp.Navigate(base+"/inbox/"),
			chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.CSS("#queue a.ticket-link")),
			chromedp.Click(chromedp.CSS("a.ticket-link")),
			chromedp.WaitVisible(chromedp.ID("note-text")),
			live,
		)
	}
	if err := openTicket(ann, "ann@example.com"); err != nil {
		t.Fatalf("Ann opens the ticket: %v", err)
	}
	if err := chromedp.Do(ann, chromedp.Click(chromedp.ID("claim")), chromedp.WaitVisible(chromedp.ID("reply-text")), live); err != nil {
		t.Fatalf("Ann claims: %v", err)
	}
	if err := openTicket(bob, "bob@example.com"); err != nil {
		t.Fatalf("Bob opens the ticket: %v", err)
	}
	if _, err := chromedp.Run(bob, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}

	const note = "Customer called by phone, refund approved by finance"
	noteXPath := `//ol[@id="timeline"]/li[contains(@class,"msg-note")][contains(.,"Internal note — ann")]/div[@class="msg-text"][.="` + note + `"]`
	err = chromedp.Do(ann,
		chromedp.SendKeys(chromedp.ID("note-text"), note),
		chromedp.Click(chromedp.ID("add-note")),
		chromedp.WaitVisible(chromedp.ID("notice")),
		chromedp.WaitVisible(chromedp.Search(noteXPath)),
	)
	if err != nil {
		t.Fatalf("Ann adds a note: %v", err)
	}
	if err := chromedp.Do(bob, chromedp.WaitVisible(chromedp.Search(noteXPath))); err != nil {
		t.Fatalf("the note on Bob's page: %v", err)
	}
	if same, err := chromedp.Run(bob, chromedp.Evaluate[bool](`window.__samePage === true`)); err != nil || !same {
		t.Errorf("Bob's page was reloaded to show the note (%v)", err)
	}

	// Ann's next reply reaches the chat page, after the note: the page has caught up.
	const reply = "Your refund is on its way."
	replyXPath := `//li[contains(@class,"msg-agent")]/div[@class="msg-text"][.="` + reply + `"]`
	err = chromedp.Do(ann,
		chromedp.SendKeys(chromedp.ID("reply-text"), reply),
		chromedp.Click(chromedp.ID("send-reply")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	if err != nil {
		t.Fatalf("Ann replies: %v", err)
	}
	noNote := func(what string) {
		t.Helper()
		text, err := chromedp.Run(chat, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, "refund approved") || strings.Contains(text, "Internal note") {
			t.Errorf("%s: the chat page shows the note:\n%s", what, text)
		}
	}
	if err := chromedp.Do(chat, chromedp.WaitVisible(chromedp.Search(replyXPath))); err != nil {
		t.Fatalf("Ann's reply on the chat page: %v", err)
	}
	noNote("live")
	if err := chromedp.Do(chat, chromedp.Reload(), chromedp.WaitVisible(chromedp.Search(replyXPath))); err != nil {
		t.Fatalf("the chat page's transcript after a reload: %v", err)
	}
	noNote("reloaded")

	ts, err := a.Store().ListTickets(ctx, storage.TicketFilter{Status: tandem.TicketClaimed})
	if err != nil || len(ts) != 1 {
		t.Fatalf("tickets = %+v, %v", ts, err)
	}
	res, err := http.Get(base + "/api/v1/conversations/" + ts[0].ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), reply) || strings.Contains(string(body), "refund approved") {
		t.Errorf("transcript API: %d %s; want Ann's reply and not the note", res.StatusCode, body)
	}
}
