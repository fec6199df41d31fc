package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/browsertest"
)

// TestAnswerFeedbackBrowser: in headless Chromium, a customer asks the demo bot about
// shipping on the chat page and marks the answer not helpful, with a comment; the vote
// stays shown after a reload, and an editor then finds the question and the comment under
// the shipping article on /kb/feedback, and the vote on the article's page.
func TestAnswerFeedbackBrowser(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	chat := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, chat)

	const question = "How long does shipping take?"
	const comment = "I wanted express options"
	notHelpful := `.msg-bot .feedback button[aria-label="Not helpful"]`
	err := chromedp.Do(chat,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), question),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(notHelpful)),
		chromedp.Click(chromedp.CSS(notHelpful)),
		chromedp.WaitVisible(chromedp.CSS(notHelpful+`[aria-pressed="true"]`)),
		// A 👎 offers a short comment.
		chromedp.WaitVisible(chromedp.CSS(`.feedback-comment input`)),
		chromedp.SendKeys(chromedp.CSS(`.feedback-comment input`), comment),
		chromedp.Click(chromedp.CSS(`.feedback-comment button`)),
		chromedp.WaitVisible(chromedp.CSS(`.feedback-thanks`)),
	)
	if err != nil {
		t.Fatalf("ask and vote: %v", err)
	}
	// The transcript carries the vote: a reload shows it chosen.
	err = chromedp.Do(chat,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(notHelpful+`[aria-pressed="true"]`)),
	)
	if err != nil {
		t.Fatalf("vote after reload: %v", err)
	}
	helpfulPressed, err := chromedp.Run(chat, chromedp.AttributeValue(chromedp.CSS(`.msg-bot .feedback button[aria-label="Helpful"]`), "aria-pressed"))
	if err != nil || helpfulPressed.Value != "false" {
		t.Errorf("helpful button pressed = %q, %v; want false", helpfulPressed.Value, err)
	}

	// An editor (the demo's staff sign-in is open on this machine) reads the report.
	editor, cancel := chromedp.NewContext(chat) // another tab
	t.Cleanup(cancel)
	err = chromedp.Do(editor,
		chromedp.Navigate(base+"/kb/unanswered"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/kb/feedback"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/kb/feedback"]`)),
		chromedp.WaitVisible(chromedp.CSS(".unhelpful-doc")),
	)
	if err != nil {
		t.Fatalf("open the report: %v", err)
	}
	report, err := chromedp.Run(editor, chromedp.Text(chromedp.ID("unhelpful")))
	if err != nil {
		t.Fatalf("report text: %v", err)
	}
	title, err := chromedp.Run(editor, chromedp.Text(chromedp.CSS(".unhelpful-doc .doc-title")))
	if err != nil {
		t.Fatalf("report title: %v", err)
	}
	asked, err := chromedp.Run(editor, chromedp.Text(chromedp.CSS(".unhelpful-doc .unhelpful-question q")))
	if err != nil {
		t.Fatalf("report question: %v", err)
	}
	if !strings.Contains(report, comment) {
		t.Errorf("the report lacks the customer's comment %q:\n%s", comment, report)
	}
	if !strings.Contains(strings.ToLower(title), "shipping") || asked != question {
		t.Errorf("first article %q with question %q, want the shipping article with %q; report:\n%s", title, asked, question, report)
	}
	err = chromedp.Do(editor,
		chromedp.Click(chromedp.CSS(".unhelpful-doc a.doc-title")),
		chromedp.WaitVisible(chromedp.ID("doc-feedback")),
	)
	if err != nil {
		t.Fatalf("open the article: %v", err)
	}
	votes, err := chromedp.Run(editor, chromedp.Text(chromedp.ID("doc-feedback")))
	if err != nil || !strings.Contains(votes, "1 not helpful") || !strings.Contains(votes, "0% helpful") {
		t.Errorf("article feedback = %q, %v; want one not-helpful vote", votes, err)
	}
}
