package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/internal/config"
)

// liveBotYAML is the bot whose waiting ticket TestTicketLiveBrowser watches being escalated
// by the worker: first with a wait limit no test reaches, so the page loads however slow
// the machine; then the bot is edited to a limit already passed, and the watched bots
// folder reloads it.
const liveBotYAML = "id: live\nhandoff:\n  queue: support\n  escalate_after: %s\n"

// TestTicketLiveBrowser: in headless Chromium, an open ticket page shows its ticket's
// escalation (badge and reason) without reloading: by the worker, for a ticket that waited
// too long, which is announced on the queue's topic only; and by the customer's strongly
// negative message while the agent has a half-typed reply, which stays as typed. A
// supervisor's transfer of the ticket to a colleague shows too (held by them, no reply
// form any more).
func TestTicketLiveBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	botsDir := t.TempDir()
	for name, data := range map[string]string{
		"live/bot.yaml": fmt.Sprintf(liveBotYAML, "1h"),
		"live/intents.yaml": "intents:\n  - name: hello\n    examples: [hello, hi there, good morning]\n    knowledge: true\n" +
			"  - name: human\n    examples: [agent please, talk to a person, a human please]\n    handoff: true\n",
	} {
		p := filepath.Join(botsDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, base := startApp(t, "", func(c *config.Config) {
		c.BotsDir = botsDir
		c.Escalation.Poll = 100 * time.Millisecond
	})
	st := a.Store()
	for _, ag := range []*tandem.Agent{
		{Name: "Bob", Email: "bob@example.com", Capacity: 2},
		{Name: "Sue", Email: "sue@example.com", Capacity: 2, Role: tandem.AgentRoleSupervisor},
	} {
		if err := st.CreateAgent(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
	customer := func(text string) {
		t.Helper()
		if code, body := post(t, base+"/api/v1/bots/demo/messages", fmt.Sprintf(`{"user":"live-ticket","text":%q}`, text)); code != http.StatusOK {
			t.Fatalf("%q: status %d: %s", text, code, body)
		}
	}
	customer("agent please")

	inbox := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, inbox)
	signIn := func(tab context.Context, email string) error {
		return chromedp.Do(tab,
			chromedp.Navigate(base+"/inbox/"),
			chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.CSS("#queue a.ticket-link")),
		)
	}
	if err := signIn(inbox, "ann@example.com"); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	samePage := func() bool {
		t.Helper()
		same, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`window.__samePage === true`))
		if err != nil {
			t.Fatal(err)
		}
		return same
	}

	// A ticket starts waiting now; the agent opens it; the worker escalates it later.
	cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550777")
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "live", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusHandoff}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	waiting := &tandem.Ticket{ConversationID: conv.ID, BotID: "live", Queue: "support", CreatedAt: time.Now()}
	if err := st.CreateTicket(ctx, waiting); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(inbox,
		chromedp.Navigate(base+"/inbox/tickets/"+waiting.ID),
		chromedp.WaitVisible(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-stream="on"]`)),
	)
	if err != nil {
		t.Fatalf("open the waiting ticket: %v", err)
	}
	if _, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}
	if escalated, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`!!document.getElementById("escalation")`)); err != nil || escalated {
		t.Fatalf("escalated before the wait limit (%v, %v)", escalated, err)
	}
	if err := os.WriteFile(filepath.Join(botsDir, "live", "bot.yaml"), []byte(fmt.Sprintf(liveBotYAML, "1ms")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(inbox, chromedp.WaitVisible(chromedp.CSS("#ticket-head #escalation .badge-escalated"))); err != nil {
		t.Fatalf("the worker's escalation on the open page: %v", err)
	}
	if banner, err := chromedp.Run(inbox, chromedp.Text(chromedp.ID("escalation"))); err != nil || !strings.Contains(banner, "waited") {
		t.Errorf("banner = %q (%v), want the wait", banner, err)
	}
	if !samePage() {
		t.Error("the ticket page was reloaded to show the worker's escalation")
	}

	// The customer of a claimed ticket writes angrily while the agent types a reply.
	if err := chromedp.Do(inbox, chromedp.Navigate(base+"/inbox/"), chromedp.WaitVisible(chromedp.CSS("#queue a.ticket-link"))); err != nil {
		t.Fatal(err)
	}
	const draft = "Let me look into your ord"
	err = chromedp.Do(inbox,
		chromedp.Click(chromedp.Search(`//a[contains(@class,"ticket-link")][not(contains(@href,"`+waiting.ID+`"))]`)),
		chromedp.WaitVisible(chromedp.ID("claim")),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("reply-text")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-stream="on"]`)),
		chromedp.SendKeys(chromedp.ID("reply-text"), draft),
	)
	if err != nil {
		t.Fatalf("claim and type a reply: %v", err)
	}
	if _, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}
	if escalated, err := chromedp.Run(inbox, chromedp.Evaluate[bool](`!!document.getElementById("escalation")`)); err != nil || escalated {
		t.Fatalf("escalation banner before the angry message: %v, %v", escalated, err)
	}

	customer("this is the worst service ever, absolutely useless")
	if err := chromedp.Do(inbox, chromedp.WaitVisible(chromedp.CSS("#ticket-head #escalation .badge-escalated"))); err != nil {
		t.Fatalf("escalation banner: %v", err)
	}
	if banner, err := chromedp.Run(inbox, chromedp.Text(chromedp.ID("escalation"))); err != nil || !strings.Contains(banner, "strongly negative") {
		t.Errorf("banner = %q (%v), want the escalation's reason", banner, err)
	}
	draftNow, err := chromedp.Run(inbox, chromedp.Value(chromedp.ID("reply-text")))
	if err != nil {
		t.Fatal(err)
	}
	if !samePage() {
		t.Error("the ticket page was reloaded to show the escalation")
	}
	if draftNow != draft {
		t.Errorf("reply draft after the escalation = %q, want %q", draftNow, draft)
	}

	// A supervisor, in another browser, gives the ticket to Bob.
	sue := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, sue)
	link, err := chromedp.Run(inbox, chromedp.Evaluate[string](`window.location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := st.FindAgentByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(sue,
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "sue@example.com"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("queue")),
		chromedp.Navigate(base+link),
		chromedp.Click(chromedp.CSS("#transfer summary")),
		chromedp.WaitVisible(chromedp.ID("transfer-agent-select")),
		chromedp.SetValue(chromedp.ID("transfer-agent-select"), bob.ID),
		chromedp.Click(chromedp.CSS("#transfer-agent button")),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="notice"][contains(.,"Transferred")]`)),
	)
	if err != nil {
		t.Fatalf("supervisor transfers the ticket: %v", err)
	}
	err = chromedp.Do(inbox,
		chromedp.WaitVisible(chromedp.Search(`//div[@id="ticket-head"]//p[contains(.,"held by Bob")]`)),
		chromedp.WaitNotPresent(chromedp.ID("reply-text")),
	)
	if err != nil {
		t.Fatalf("the transfer on the agent's page: %v", err)
	}
	if !samePage() {
		t.Error("the ticket page was reloaded to show the transfer")
	}
}
