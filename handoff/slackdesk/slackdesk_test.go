package slackdesk_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

const (
	testChannel = "C0AGENTS"
	testSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	testToken   = "xoxb-1234-5678-desk"
	phone       = "+15550123"
)

// users are the Slack workspace's people as users.info shows them.
var users = map[string]string{"U0ANN": "ann@example.com", "U0BOB": "bob@example.com", "U0NOMAIL": ""}

// call is one Web API request the fake Slack received.
type call struct {
	method string // chat.postMessage, ...
	form   url.Values
}

// fakeSlack speaks the part of Slack's Web API the desk uses.
type fakeSlack struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []call
	ts    int
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Header.Get("Authorization") != "Bearer "+testToken && form.Get("token") != testToken {
		http.Error(w, `{"ok":false,"error":"invalid_auth"}`, http.StatusOK)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	f.calls = append(f.calls, call{method: method, form: form})
	f.ts++
	ts := fmt.Sprintf("1700000%03d.000100", f.ts)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var resp any
	switch method {
	case "chat.postMessage":
		resp = map[string]any{"ok": true, "channel": form.Get("channel"), "ts": ts}
	case "chat.update":
		resp = map[string]any{"ok": true, "channel": form.Get("channel"), "ts": form.Get("ts"), "text": form.Get("text")}
	case "chat.postEphemeral":
		resp = map[string]any{"ok": true, "message_ts": ts}
	case "users.info":
		id := form.Get("user")
		email, ok := users[id]
		if !ok {
			resp = map[string]any{"ok": false, "error": "user_not_found"}
			break
		}
		resp = map[string]any{"ok": true, "user": map[string]any{"id": id, "name": strings.ToLower(id),
			"profile": map[string]any{"email": email, "real_name": id}}}
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// count is the number of calls so far.
func (f *fakeSlack) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// called returns the calls of method so far.
func (f *fakeSlack) called(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.method == method {
			out = append(out, c)
		}
	}
	return out
}

// fixture is a desk in front of a real store holding one SMS customer's handed-off
// conversation and its queued ticket, with the desk's Run going.
type fixture struct {
	st     storage.Store
	slack  *fakeSlack
	desk   *slackdesk.Desk
	conv   *tandem.Conversation
	ticket *tandem.Ticket
}

type setupOpt struct {
	now     func() time.Time
	noRun   bool
	surveys handoff.Surveys
	events  slackdesk.Publisher
}

func setup(t testing.TB, st storage.Store, o setupOpt) *fixture {
	t.Helper()
	f := &fixture{st: st, slack: newFakeSlack(t)}
	f.conv, f.ticket = handedOff(t, st, phone, "Dana Scully")
	f.desk = f.newDesk(t, o)
	return f
}

// newDesk starts a desk (a replica) over the fixture's store and Slack.
func (f *fixture) newDesk(t testing.TB, o setupOpt) *slackdesk.Desk {
	t.Helper()
	opts := []slackdesk.Option{slackdesk.WithAPIURL(f.slack.srv.URL), slackdesk.WithHTTPClient(f.slack.srv.Client()),
		slackdesk.WithLogger(slog.New(slog.DiscardHandler))}
	if o.now != nil {
		opts = append(opts, slackdesk.WithNow(o.now))
	}
	if o.surveys != nil {
		opts = append(opts, slackdesk.WithSurveys(o.surveys))
	}
	if o.events != nil {
		opts = append(opts, slackdesk.WithEvents(o.events))
	}
	d, err := slackdesk.New(slackdesk.Config{Channel: testChannel, BotToken: testToken, SigningSecret: testSecret,
		InboxURL: "https://support.example.com/inbox/"}, f.st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !o.noRun {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	return d
}

// handedOff stores a conversation of an SMS customer with the bot, handed to a human.
func handedOff(t testing.TB, st storage.Store, number, name string) (*tandem.Conversation, *tandem.Ticket) {
	t.Helper()
	ctx := context.Background()
	c, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, number)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateCustomer(ctx, c.ID, storage.CustomerUpdate{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: c.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusHandoff}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	for _, m := range []tandem.Message{
		{Role: tandem.RoleCustomer, Text: "my order <never> arrived"},
		{Role: tandem.RoleBot, Text: "Sorry! Let me find someone to help."},
	} {
		m.ConversationID, m.Channel = conv.ID, tandem.ChannelSMS
		if err := st.CreateMessage(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "customer asked for a human"})
	if err != nil {
		t.Fatal(err)
	}
	return conv, tk
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) findTicket(t *testing.T) *tandem.Ticket {
	t.Helper()
	tk, err := f.st.FindTicketByID(context.Background(), f.ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// posted waits for the ticket's card and returns its ts.
func (f *fixture) posted(t *testing.T) string {
	t.Helper()
	if err := f.desk.TicketOpened(context.Background(), f.conv, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	var ref string
	waitFor(t, "the card's desk ref", func() bool { ref = f.findTicket(t).DeskRef; return ref != "" })
	ts, ok := strings.CutPrefix(ref, "slack:"+testChannel+":")
	if !ok {
		t.Fatalf("desk ref = %q", ref)
	}
	return ts
}

// signature is Slack's v0 request signature, computed here independently of slack-go.
func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func signed(ctype string, body []byte, secret string, at time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/desks/slack", bytes.NewReader(body))
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", signature(secret, ts, body))
	return req
}

func serve(d *slackdesk.Desk, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, req)
	return rec
}

// clickBody is the interactivity payload of user clicking action on the card ts.
func clickBody(user, action, ticketID, cardTS string) []byte {
	p, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": strings.ToLower(user), "team_id": "T0SHOP"},
		"team": map[string]any{"id": "T0SHOP"}, "api_app_id": "A0DESK", "trigger_id": "1.2.3",
		"channel":   map[string]any{"id": testChannel, "name": "support-desk"},
		"container": map[string]any{"type": "message", "message_ts": cardTS, "channel_id": testChannel},
		"message":   map[string]any{"type": "message", "ts": cardTS, "text": "Customer waiting"},
		"actions": []map[string]any{{"type": "button", "action_id": action, "block_id": "ticket", "value": ticketID,
			"action_ts": "1700000999.000001", "text": map[string]any{"type": "plain_text", "text": "x"}}},
	})
	return []byte(url.Values{"payload": {string(p)}}.Encode())
}

func click(user, action, ticketID, cardTS string) *http.Request {
	return signed("application/x-www-form-urlencoded", clickBody(user, action, ticketID, cardTS), testSecret, time.Now())
}

// replyBody is the Events API request for a message; fields override or (nil) remove
// fields of the message event.
func replyBody(fields map[string]any) []byte {
	ev := map[string]any{"type": "message", "channel": testChannel, "channel_type": "channel", "user": "U0ANN",
		"text": "Hi Dana, Ann here. I am looking into it.", "ts": "1700000500.000200", "event_ts": "1700000500.000200",
		"client_msg_id": "9e3a1d6c-0000-4b0b-9c1d-000000000001"}
	for k, v := range fields {
		if v == nil {
			delete(ev, k)
		} else {
			ev[k] = v
		}
	}
	b, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": "T0SHOP", "api_app_id": "A0DESK",
		"type": "event_callback", "event_id": "Ev0500", "event_time": 1700000500, "event": ev,
		"authorizations": []map[string]any{{"team_id": "T0SHOP", "user_id": "U0DESKBOT", "is_bot": true}}})
	return b
}

func threadReply(fields map[string]any) *http.Request {
	return signed("application/json", replyBody(fields), testSecret, time.Now())
}

// agentMessages are the agent messages stored in the fixture's conversation.
func (f *fixture) agentMessages(t *testing.T) []tandem.Message {
	t.Helper()
	ms, err := f.st.ListMessages(context.Background(), f.conv.ID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []tandem.Message
	for _, m := range ms {
		if m.Role == tandem.RoleAgent {
			out = append(out, m)
		}
	}
	return out
}

func (f *fixture) signIn(t *testing.T, email string) *tandem.Agent {
	t.Helper()
	a, err := handoff.SignIn(context.Background(), f.st, email)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) claim(t *testing.T, email string) *tandem.Agent {
	t.Helper()
	a := f.signIn(t, email)
	if _, err := handoff.Claim(context.Background(), f.st, f.ticket.ID, a.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	return a
}

// ephemeral waits for an ephemeral message to user and returns its text and thread.
func (f *fixture) ephemeral(t *testing.T, user string) (text, thread string) {
	t.Helper()
	var got []call
	waitFor(t, "an ephemeral message to "+user, func() bool {
		got = nil
		for _, c := range f.slack.called("chat.postEphemeral") {
			if c.form.Get("user") == user {
				got = append(got, c)
			}
		}
		return len(got) > 0
	})
	if len(got) != 1 {
		t.Errorf("%d ephemeral messages to %s, want 1", len(got), user)
	}
	if ch := got[0].form.Get("channel"); ch != testChannel {
		t.Errorf("ephemeral message in %q, want %q", ch, testChannel)
	}
	return got[0].form.Get("text"), got[0].form.Get("thread_ts")
}

// blocks decodes the Block Kit of a posted or updated message into generic JSON.
func blocks(t *testing.T, c call) []map[string]any {
	t.Helper()
	var b []map[string]any
	if err := json.Unmarshal([]byte(c.form.Get("blocks")), &b); err != nil {
		t.Fatalf("blocks %q: %v", c.form.Get("blocks"), err)
	}
	return b
}

// cardText is all the text and URLs of a message's blocks, as Slack reads them (mrkdwn).
func cardText(t *testing.T, c call) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "text" || k == "url") {
					b.WriteString(s + "\n")
				} else {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, bl := range blocks(t, c) {
		walk(bl)
	}
	return b.String()
}

// buttons returns a card's buttons as action id → value.
func buttons(t *testing.T, c call) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range blocks(t, c) {
		if b["type"] != "actions" {
			continue
		}
		for _, e := range b["elements"].([]any) {
			el := e.(map[string]any)
			v, _ := el["value"].(string)
			out[el["action_id"].(string)] = v
		}
	}
	return out
}

func forEachStore(t *testing.T, name string, f func(t *testing.T, open func(testing.TB) storage.Store)) {
	t.Helper()
	for _, s := range teststore.All {
		t.Run(s.Name+"/"+name, func(t *testing.T) { t.Parallel(); f(t, s.Open) })
	}
}

func TestDesk(t *testing.T) {
	t.Parallel()
	forEachStore(t, "Card", testCard)
	forEachStore(t, "Reconcile", testReconcile)
	forEachStore(t, "Click", testClick)
	forEachStore(t, "ThreadReply", testThreadReply)
	forEachStore(t, "Retry", testRetry)
	forEachStore(t, "Relay", testRelay)
	forEachStore(t, "Refused", testRefused)
	forEachStore(t, "TicketChanged", testTicketChanged)
	forEachStore(t, "Escalated", testEscalated)
	forEachStore(t, "Events", testEvents)
}

// testEscalated: an escalation (by the worker or a turn) redraws the card with its reason.
func testEscalated(t *testing.T, open func(testing.TB) storage.Store) {
	ctx := context.Background()
	f := setup(t, open(t), setupOpt{})
	ts := f.posted(t)
	esc := &handoff.Escalator{Store: f.st, Desks: []handoff.TicketWatcher{f.desk}}
	if _, err := esc.Escalate(ctx, f.ticket.ID, handoff.EscalationWait, "waited 12m in queue support (limit 10m)", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the escalated card", func() bool {
		for _, c := range f.slack.called("chat.update") {
			text := cardText(t, c)
			if c.form.Get("ts") == ts && strings.Contains(text, "Escalated: ") && strings.Contains(text, "waited 12m in queue support (limit 10m)") {
				return true
			}
		}
		return false
	})
}

// testTicketChanged: a claim made at another desk (the web inbox) redraws the card.
func testTicketChanged(t *testing.T, open func(testing.TB) storage.Store) {
	ctx := context.Background()
	f := setup(t, open(t), setupOpt{})
	ts := f.posted(t)
	agent := f.signIn(t, "ann@example.com")
	if _, err := handoff.Claim(ctx, f.st, f.ticket.ID, agent.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.TicketChanged(ctx, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the card's update", func() bool {
		for _, c := range f.slack.called("chat.update") {
			if c.form.Get("ts") == ts && c.form.Get("channel") == testChannel && strings.Contains(cardText(t, c), "ann@example.com") {
				return true
			}
		}
		return false
	})
}

// testCard: a new ticket gets one card in the agents' channel, with who the customer is,
// why, their last messages and the buttons; the ticket records the card.
func testCard(t *testing.T, open func(testing.TB) storage.Store) {
	f := setup(t, open(t), setupOpt{})
	ts := f.posted(t)
	// A second TicketOpened (the engine's retry) finds the card and posts nothing; the
	// queue is in order, so once the relay is in the thread both were handled.
	if err := f.desk.TicketOpened(context.Background(), f.conv, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Relay(context.Background(), f.conv, &tandem.Message{Channel: tandem.ChannelSMS, Text: "hello?"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the relayed message", func() bool { return len(f.slack.called("chat.postMessage")) >= 2 })
	posts := f.slack.called("chat.postMessage")
	if len(posts) != 2 || posts[1].form.Get("thread_ts") != ts {
		t.Fatalf("posts = %+v, want the card then a message in its thread", posts)
	}
	c := posts[0]
	if got := c.form.Get("channel"); got != testChannel {
		t.Errorf("card posted to %q, want %q", got, testChannel)
	}
	if c.form.Get("thread_ts") != "" {
		t.Errorf("card posted in a thread")
	}
	raw := cardText(t, c)
	for _, want := range []string{"Dana Scully", "customer asked for a human", "demo", "sms", phone,
		"my order &lt;never&gt; arrived", "Sorry! Let me find someone to help.", "support",
		"*Summary*", `Came for: "my order &lt;never&gt; arrived"`, "Mood: neutral (+0.00) over 1 customer message",
		"https://support.example.com/inbox/tickets/" + f.ticket.ID} {
		if !strings.Contains(raw, want) {
			t.Errorf("card does not show %q:\n%s", want, raw)
		}
	}
	if !strings.Contains(c.form.Get("text"), "customer asked for a human") {
		t.Errorf("notification text = %q", c.form.Get("text"))
	}
	got := buttons(t, c)
	for _, id := range []string{slackdesk.ActionClaim, slackdesk.ActionGiveBack, slackdesk.ActionClose} {
		if got[id] != f.ticket.ID {
			t.Errorf("button %s has value %q, want the ticket id %s (buttons %v)", id, got[id], f.ticket.ID, got)
		}
	}
}

// testReconcile: a queued ticket left without a card (a crash between the turn and the
// post) gets one when Run starts; a ticket that has a card does not get another.
func testReconcile(t *testing.T, open func(testing.TB) storage.Store) {
	st := open(t)
	ctx := context.Background()
	_, carded := handedOff(t, st, "+15550999", "Fox Mulder")
	ref := "slack:" + testChannel + ":1600000000.000001"
	if _, err := st.UpdateTicket(ctx, carded.ID, storage.TicketUpdate{DeskRef: &ref}); err != nil {
		t.Fatal(err)
	}
	// The clock is an hour on, so both tickets are old enough to be reconciled.
	f := setup(t, st, setupOpt{now: func() time.Time { return time.Now().Add(time.Hour) }})
	waitFor(t, "the reconciled card", func() bool { return f.findTicket(t).DeskRef != "" })
	posts := f.slack.called("chat.postMessage")
	if len(posts) != 1 || !strings.Contains(cardText(t, posts[0]), "Dana Scully") {
		t.Fatalf("posts = %+v, want only Dana's card", posts)
	}
	if tk, err := st.FindTicketByID(ctx, carded.ID); err != nil || tk.DeskRef != ref {
		t.Errorf("the carded ticket = %+v, %v; want its desk ref unchanged", tk, err)
	}
}

// testClick: the card's buttons act as the agent with the clicking user's email; refused
// clicks are answered with the desk's reason, only to the clicker, and change nothing.
func testClick(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		before  func(t *testing.T, f *fixture)
		user    string
		action  string
		status  tandem.TicketStatus
		holder  string // email of the agent holding the ticket after the click
		conv    tandem.ConversationStatus
		card    string // what the redrawn card says
		refusal string // the ephemeral answer, for refused clicks
		survey  string // the bot's CSAT question, sent to the customer's phone on close
	}{
		{name: "OKClaim", user: "U0ANN", action: slackdesk.ActionClaim, status: tandem.TicketClaimed,
			holder: "ann@example.com", conv: tandem.StatusHandoff, card: "Claimed by *ann* (ann@example.com)"},
		{name: "OKGiveBack", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0ANN", action: slackdesk.ActionGiveBack, status: tandem.TicketReturned, holder: "ann@example.com",
			conv: tandem.StatusOpen, card: "Given back to the bot"},
		{name: "OKClose", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0ANN", action: slackdesk.ActionClose, status: tandem.TicketClosed, holder: "ann@example.com",
			conv: tandem.StatusClosed, card: "Closed by *ann*"},
		{name: "OKCloseSurveys", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0ANN", action: slackdesk.ActionClose, status: tandem.TicketClosed, holder: "ann@example.com",
			conv: tandem.StatusOpen, card: "Closed by *ann*", survey: "How did we do?"},
		{name: "ErrClaimTaken", before: func(t *testing.T, f *fixture) {
			rec := serve(f.desk, click("U0ANN", slackdesk.ActionClaim, f.ticket.ID, "x"))
			if rec.Code != http.StatusOK {
				t.Fatalf("ann's claim: %d", rec.Code)
			}
		}, user: "U0BOB", action: slackdesk.ActionClaim, status: tandem.TicketClaimed, holder: "ann@example.com",
			conv: tandem.StatusHandoff, card: "Claimed by *ann*", refusal: "another agent claimed this ticket first"},
		{name: "ErrCloseNotHeld", before: func(t *testing.T, f *fixture) { f.claim(t, "ann@example.com") },
			user: "U0BOB", action: slackdesk.ActionClose, status: tandem.TicketClaimed, holder: "ann@example.com",
			conv: tandem.StatusHandoff, card: "Claimed by *ann*", refusal: "another agent claimed this ticket first"},
		{name: "ErrGiveBackUnclaimed", user: "U0BOB", action: slackdesk.ActionGiveBack, status: tandem.TicketQueued,
			conv: tandem.StatusHandoff, card: "Waiting for an agent", refusal: "claim the ticket first"},
		{name: "ErrNoEmail", user: "U0NOMAIL", action: slackdesk.ActionClaim, status: tandem.TicketQueued,
			conv: tandem.StatusHandoff, refusal: "email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			opt := setupOpt{}
			if tt.survey != "" {
				opt.surveys = func(string) string { return tt.survey }
			}
			f := setup(t, open(t), opt)
			ts := f.posted(t)
			if tt.before != nil {
				tt.before(t, f)
			}
			if rec := serve(f.desk, click(tt.user, tt.action, f.ticket.ID, ts)); rec.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
			}
			if tt.survey != "" {
				ds, err := f.st.ListDeliveries(ctx, storage.DeliveryFilter{})
				if err != nil || len(ds) != 1 || ds[0].Reply.Text != tt.survey || ds[0].To != phone {
					t.Errorf("deliveries = %+v, %v; want the survey question to %s", ds, err, phone)
				}
			}
			tk := f.findTicket(t)
			holder := ""
			if tk.AgentID != "" {
				a, err := f.st.FindAgentByID(ctx, tk.AgentID)
				if err != nil {
					t.Fatal(err)
				}
				holder = a.Email
			}
			if tk.Status != tt.status || holder != tt.holder {
				t.Errorf("ticket %s held by %q, want %s by %q", tk.Status, holder, tt.status, tt.holder)
			}
			conv, err := f.st.FindConversationByID(ctx, f.conv.ID)
			if err != nil || conv.Status != tt.conv {
				t.Errorf("conversation = %v, %v; want %s", conv.Status, err, tt.conv)
			}
			if tt.refusal != "" {
				if text, _ := f.ephemeral(t, tt.user); !strings.Contains(text, tt.refusal) {
					t.Errorf("ephemeral = %q, want it to say %q", text, tt.refusal)
				}
			}
			if tt.card == "" {
				return
			}
			// The card the user clicked is redrawn as the ticket now stands.
			var upd call
			waitFor(t, "the card's update", func() bool {
				for _, c := range f.slack.called("chat.update") {
					if c.form.Get("ts") == ts && strings.Contains(cardText(t, c), tt.card) {
						upd = c
						return true
					}
				}
				return false
			})
			if upd.form.Get("channel") != testChannel {
				t.Errorf("updated in channel %q", upd.form.Get("channel"))
			}
			b := buttons(t, upd)
			if _, ok := b[slackdesk.ActionClaim]; ok != (tt.status == tandem.TicketQueued) {
				t.Errorf("buttons after %s = %v", tt.name, b)
			}
			if _, ok := b[slackdesk.ActionClose]; ok != (tt.status == tandem.TicketQueued || tt.status == tandem.TicketClaimed) {
				t.Errorf("buttons after %s = %v", tt.name, b)
			}
		})
	}
}

// testThreadReply: the holder's reply in the card's thread is the agent's message to the
// customer, on its way to their phone; anyone else is told why not, and nothing is stored.
func testThreadReply(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		holder  string // who claimed the ticket first
		fields  map[string]any
		want    string // the stored reply, "" for none
		refusal string // the ephemeral answer to U0ANN, "" for none
	}{
		{name: "OK", holder: "ann@example.com", want: "Hi Dana, Ann here. I am looking into it."},
		{name: "OKMarkup", holder: "ann@example.com",
			fields: map[string]any{"text": "Track it at <https://shop.example.com/t/1|your tracking page> &lt;3 &amp; thanks"},
			want:   "Track it at your tracking page <3 & thanks"},
		{name: "ErrNotClaimed", refusal: "claim the ticket first"},
		{name: "ErrHeldByOther", holder: "bob@example.com", refusal: "another agent claimed this ticket first"},
		{name: "ErrNoEmail", holder: "ann@example.com", fields: map[string]any{"user": "U0NOMAIL"}},
		{name: "IgnoredTopLevel", holder: "ann@example.com", fields: map[string]any{"thread_ts": nil}},
		{name: "IgnoredOtherThread", holder: "ann@example.com", fields: map[string]any{"thread_ts": "1600000000.000009"}},
		{name: "IgnoredOtherChannel", holder: "ann@example.com", fields: map[string]any{"channel": "C0RANDOM"}},
		{name: "IgnoredEdit", holder: "ann@example.com", fields: map[string]any{"subtype": "message_changed"}},
		{name: "IgnoredBot", holder: "ann@example.com", fields: map[string]any{"bot_id": "B0OTHER"}},
		{name: "IgnoredOwnBot", holder: "ann@example.com", fields: map[string]any{"user": "U0DESKBOT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			var ann *tandem.Agent
			if tt.holder != "" {
				ann = f.claim(t, tt.holder)
			}
			fields := map[string]any{"thread_ts": ts}
			for k, v := range tt.fields {
				fields[k] = v
			}
			if rec := serve(f.desk, threadReply(fields)); rec.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
			}
			if tt.name == "ErrNoEmail" {
				if text, thread := f.ephemeral(t, "U0NOMAIL"); !strings.Contains(text, "email address") || thread != ts {
					t.Errorf("ephemeral = %q in thread %q", text, thread)
				}
			}
			got := f.agentMessages(t)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("stored %d agent messages, want none", len(got))
				}
				if tt.refusal != "" {
					text, thread := f.ephemeral(t, "U0ANN")
					if !strings.Contains(text, tt.refusal) || thread != ts {
						t.Errorf("ephemeral = %q in thread %q, want %q in the card's thread", text, thread, tt.refusal)
					}
				}
				return
			}
			if len(got) != 1 || got[0].Text != tt.want || got[0].AuthorID != ann.ID || got[0].Channel != tandem.ChannelSMS {
				t.Fatalf("agent messages = %+v, want one %q by %s on sms", got, tt.want, ann.ID)
			}
			d, err := f.st.FindDelivery(ctx, got[0].ID)
			if err != nil {
				t.Fatalf("the reply has no delivery: %v", err)
			}
			if d.Channel != tandem.ChannelSMS || d.To != phone || d.Reply.Text != tt.want || d.Status != tandem.DeliveryPending {
				t.Errorf("delivery = %+v", d)
			}
		})
	}
}

// testRetry: Slack's retries of a thread reply (while the first is handled, after it, or
// at another replica) send one reply to the customer.
func testRetry(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name string
		send func(t *testing.T, f *fixture, body []byte)
	}{
		{"OKAfter", func(t *testing.T, f *fixture, body []byte) {
			for i := range 3 {
				req := signed("application/json", body, testSecret, time.Now())
				if i > 0 {
					req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(i))
					req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
				}
				if rec := serve(f.desk, req); rec.Code != http.StatusOK {
					t.Errorf("delivery %d: status %d", i, rec.Code)
				}
			}
		}},
		{"OKConcurrent", func(t *testing.T, f *fixture, body []byte) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if rec := serve(f.desk, signed("application/json", body, testSecret, time.Now())); rec.Code != http.StatusOK {
						t.Errorf("status %d", rec.Code)
					}
				})
			}
			wg.Wait()
		}},
		{"OKOtherReplica", func(t *testing.T, f *fixture, body []byte) {
			other := f.newDesk(t, setupOpt{})
			for _, d := range []*slackdesk.Desk{f.desk, other} {
				if rec := serve(d, signed("application/json", body, testSecret, time.Now())); rec.Code != http.StatusOK {
					t.Errorf("status %d", rec.Code)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			f.claim(t, "ann@example.com")
			tt.send(t, f, replyBody(map[string]any{"thread_ts": ts}))
			if got := f.agentMessages(t); len(got) != 1 {
				t.Errorf("stored %d agent messages, want 1", len(got))
			}
			ds, err := f.st.ListDeliveries(context.Background(), storage.DeliveryFilter{})
			if err != nil || len(ds) != 1 {
				t.Errorf("deliveries = %d (%v), want 1", len(ds), err)
			}
		})
	}
}

// testRelay: a customer's message during the handoff appears in the card's thread; when
// the ticket has no card yet (its TicketOpened was lost), the card is posted instead, and
// shows the message.
func testRelay(t *testing.T, open func(testing.TB) storage.Store) {
	for _, name := range []string{"OK", "OKNoCardYet"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, open(t), setupOpt{})
			ts := ""
			if name == "OK" {
				ts = f.posted(t)
			}
			msg := &tandem.Message{ConversationID: f.conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS,
				Text: "It was order <@U0ANN> #1234 & it's late"}
			if name == "OKNoCardYet" {
				if err := f.st.CreateMessage(ctx, msg); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.desk.Relay(ctx, f.conv, msg); err != nil {
				t.Fatal(err)
			}
			// The customer's text cannot mention or link: Slack's markup characters are escaped.
			const want = "It was order &lt;@U0ANN&gt; #1234 &amp; it's late"
			if name == "OKNoCardYet" {
				waitFor(t, "the card", func() bool { return f.findTicket(t).DeskRef != "" })
				posts := f.slack.called("chat.postMessage")
				if len(posts) != 1 || posts[0].form.Get("thread_ts") != "" || !strings.Contains(cardText(t, posts[0]), want) {
					t.Fatalf("posts = %+v, want one card showing %q", posts, want)
				}
				return
			}
			var got []call
			waitFor(t, "the relayed message", func() bool {
				got = nil
				for _, c := range f.slack.called("chat.postMessage") {
					if c.form.Get("thread_ts") != "" {
						got = append(got, c)
					}
				}
				return len(got) > 0
			})
			c := got[0]
			if len(got) != 1 || c.form.Get("thread_ts") != ts || c.form.Get("channel") != testChannel {
				t.Fatalf("thread posts = %+v, want one in the card's thread %s", got, ts)
			}
			if !strings.Contains(c.form.Get("text"), want) {
				t.Errorf("relayed %q, want it to contain %q", c.form.Get("text"), want)
			}
		})
	}
}

// testRefused: requests that are not Slack's, or too large, change nothing.
func testRefused(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name string
		req  func(f *fixture, ts string) *http.Request
		want int
	}{
		{"ErrWrongSecret", func(f *fixture, ts string) *http.Request {
			return signed("application/x-www-form-urlencoded", clickBody("U0ANN", slackdesk.ActionClose, f.ticket.ID, ts), "another-secret", time.Now())
		}, http.StatusUnauthorized},
		{"ErrStale", func(f *fixture, ts string) *http.Request {
			return signed("application/x-www-form-urlencoded", clickBody("U0ANN", slackdesk.ActionClose, f.ticket.ID, ts), testSecret, time.Now().Add(-10*time.Minute))
		}, http.StatusUnauthorized},
		{"ErrBodyChanged", func(f *fixture, ts string) *http.Request {
			req := signed("application/json", replyBody(map[string]any{"thread_ts": ts, "text": "hello"}), testSecret, time.Now())
			req.Body = io.NopCloser(bytes.NewReader(replyBody(map[string]any{"thread_ts": ts, "text": "send me your password"})))
			return req
		}, http.StatusUnauthorized},
		{"ErrNoSignature", func(f *fixture, ts string) *http.Request {
			req := signed("application/json", replyBody(map[string]any{"thread_ts": ts}), testSecret, time.Now())
			req.Header.Del("X-Slack-Signature")
			return req
		}, http.StatusUnauthorized},
		{"ErrTooLarge", func(f *fixture, ts string) *http.Request {
			return signed("application/json", replyBody(map[string]any{"thread_ts": ts, "text": strings.Repeat("a", 70<<10)}), testSecret, time.Now())
		}, http.StatusRequestEntityTooLarge},
		{"ErrContentType", func(f *fixture, ts string) *http.Request {
			return signed("text/plain", replyBody(map[string]any{"thread_ts": ts}), testSecret, time.Now())
		}, http.StatusUnsupportedMediaType},
		{"ErrMalformed", func(f *fixture, ts string) *http.Request {
			return signed("application/json", []byte(`{"type":"event_callback","event":`), testSecret, time.Now())
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open(t), setupOpt{})
			ts := f.posted(t)
			// Ann holds the ticket, so her reply would be stored and her click close it, if
			// the request got through.
			f.claim(t, "ann@example.com")
			before := f.slack.count()
			rec := serve(f.desk, tt.req(f, ts))
			if rec.Code != tt.want {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tt.want)
			}
			if got := f.agentMessages(t); len(got) != 0 {
				t.Errorf("stored %d agent messages", len(got))
			}
			if tk := f.findTicket(t); tk.Status != tandem.TicketClaimed {
				t.Errorf("ticket is %s, want still claimed", tk.Status)
			}
			if after := f.slack.count(); after != before {
				t.Errorf("Slack was called %d times", after-before)
			}
		})
	}
}

func TestURLVerification(t *testing.T) {
	t.Parallel()
	f := setup(t, teststore.All[0].Open(t), setupOpt{noRun: true})
	body := []byte(`{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	rec := serve(f.desk, signed("application/json", body, testSecret, time.Now()))
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("got %d %q, want 200 and the challenge", rec.Code, rec.Body)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	ok := slackdesk.Config{Channel: " C0AGENTS\n", BotToken: " xoxb-1-2-abc\n", SigningSecret: "s3cret\n"}
	for _, tc := range []struct {
		name   string
		modify func(c *slackdesk.Config)
		ok     bool
	}{
		{"OK", nil, true},
		{"OKPrivateChannel", func(c *slackdesk.Config) { c.Channel = "G0PRIVATE" }, true},
		{"OKInboxURL", func(c *slackdesk.Config) { c.InboxURL = "https://support.example.com/inbox/" }, true},
		{"ErrNoChannel", func(c *slackdesk.Config) { c.Channel = "" }, false},
		{"ErrChannelName", func(c *slackdesk.Config) { c.Channel = "#support" }, false},
		{"ErrNoToken", func(c *slackdesk.Config) { c.BotToken = "" }, false},
		{"ErrUserToken", func(c *slackdesk.Config) { c.BotToken = "xoxp-1-2" }, false},
		{"ErrNoSecret", func(c *slackdesk.Config) { c.SigningSecret = "" }, false},
		{"ErrInboxURL", func(c *slackdesk.Config) { c.InboxURL = "support.example.com" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			if tc.modify != nil {
				tc.modify(&c)
			}
			err := c.WithDefaults().Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && tandem.ErrorCode(err) != tandem.EINVALID {
				t.Errorf("code = %q, want EINVALID", tandem.ErrorCode(err))
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

// FuzzHandler: whatever Slack (or anyone holding the signing secret) sends, the handler
// answers with a status and does not panic.
func FuzzHandler(f *testing.F) {
	fx := setup(f, teststore.All[0].Open(f), setupOpt{noRun: true})
	f.Add(false, replyBody(map[string]any{"thread_ts": "1700000001.000100"}))
	f.Add(false, replyBody(map[string]any{"thread_ts": "1700000001.000100", "text": "<https://x.example|x> &amp;"}))
	f.Add(true, clickBody("U0ANN", slackdesk.ActionClaim, fx.ticket.ID, "1700000001.000100"))
	f.Add(true, []byte("payload=%7B%22type%22%3A%22block_actions%22%7D"))
	f.Add(false, []byte(`{"type":"url_verification","challenge":"x"}`))
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		ctype := "application/json"
		if form {
			ctype = "application/x-www-form-urlencoded"
		}
		rec := serve(fx.desk, signed(ctype, body, testSecret, time.Now()))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Errorf("status = %d for %q", rec.Code, body)
		}
	})
}
