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
var users = map[string]string{"U0ANN": "ann@example.com", "U0BOB": "bob@example.com", "U0NOMAIL": "",
	"U0SUE": "sue@example.com", "U0EVE": "eve@example.com", "U0ED": "ed@example.com"}

// call is one Web API request the fake Slack received.
type call struct {
	method string // chat.postMessage, ...
	form   url.Values
	json   map[string]any // the body of a JSON call (views.open)
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
	var form url.Values
	var js map[string]any
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		err = json.Unmarshal(body, &js)
	} else {
		form, err = url.ParseQuery(string(body))
	}
	if err != nil || r.Header.Get("Authorization") != "Bearer "+testToken && form.Get("token") != testToken {
		http.Error(w, `{"ok":false,"error":"invalid_auth"}`, http.StatusOK)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	f.calls = append(f.calls, call{method: method, form: form, json: js})
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
	case "views.open":
		if js["trigger_id"] == "" {
			resp = map[string]any{"ok": false, "error": "invalid_trigger_id"}
			break
		}
		view, _ := js["view"].(map[string]any)
		view["id"] = "V0TRANSFER"
		resp = map[string]any{"ok": true, "view": view}
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
	staff   bool     // WithStaffAccounts
	queues  []string // WithQueues
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
	if o.staff {
		opts = append(opts, slackdesk.WithStaffAccounts())
	}
	if o.queues != nil {
		opts = append(opts, slackdesk.WithQueues(func() []string { return o.queues }))
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
	forEachStore(t, "ThreadNote", testThreadNote)
	forEachStore(t, "Retry", testRetry)
	forEachStore(t, "Relay", testRelay)
	forEachStore(t, "Refused", testRefused)
	forEachStore(t, "TicketChanged", testTicketChanged)
	forEachStore(t, "Escalated", testEscalated)
	forEachStore(t, "Events", testEvents)
	forEachStore(t, "StaffAccounts", testStaffAccounts)
	forEachStore(t, "TransferForm", testTransferForm)
	forEachStore(t, "Transfer", testTransfer)
}
