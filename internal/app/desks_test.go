package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
)

// deskSlack is a local server speaking the Slack Web API methods the agents' desk calls.
type deskSlack struct {
	mu    sync.Mutex
	calls []deskCall
}

type deskCall struct {
	method string
	form   url.Values
}

func (s *deskSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Header.Get("Authorization") != "Bearer xoxb-desk-token" && r.PostForm.Get("token") != "xoxb-desk-token" {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	s.mu.Lock()
	s.calls = append(s.calls, deskCall{method, r.PostForm})
	n := len(s.calls)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "chat.postMessage", "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":"C0AGENTS","ts":"1700000000.%06d"}`, n)
	case "chat.postEphemeral":
		fmt.Fprintf(w, `{"ok":true,"message_ts":"1700000000.%06d"}`, n)
	case "users.info":
		fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"profile":{"email":"ann@example.com"}}}`, r.PostForm.Get("user"))
	default:
		fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

func (s *deskSlack) called(method string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, c := range s.calls {
		if c.method == method {
			out = append(out, c.form)
		}
	}
	return out
}

// deskRequest is a request from Slack to the desk's webhook, signed with secret.
func deskRequest(t *testing.T, base, secret, ctype, body string) *http.Request {
	t.Helper()
	return slackRequest(t, base+app.SlackDeskPath, secret, ctype, body)
}

// TestSlackDesk drives the agents' desk in Slack on the real application: a customer asks
// for a human and the ticket's card reaches the agents' channel; an agent claims it with
// the card's button and answers in its thread, and the answer is in the customer's
// transcript; the customer's next message is relayed to the thread.
func TestSlackDesk(t *testing.T) {
	t.Parallel()
	api := &deskSlack{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	const secret = "desk-signing-secret"
	a, base := startApp(t, "", func(c *config.Config) {
		c.Desks.Slack = &config.SlackDesk{Channel: "C0AGENTS", APIURL: srv.URL + "/api/",
			BotToken: "xoxb-desk-token", SigningSecret: secret}
	})
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}
	send := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	code, body := post(t, base+"/api/v1/bots/demo/messages", `{"user":"visitor-desk","text":"I want to talk to a human"}`)
	var turn turnJSON
	if err := json.Unmarshal(body, &turn); err != nil || code != http.StatusOK || turn.Handoff == nil {
		t.Fatalf("handoff turn = %d %s", code, body)
	}
	ctx := context.Background()
	var tk *tandem.Ticket
	wait("the ticket's card", func() bool {
		var err error
		tk, err = a.Store().FindActiveTicket(ctx, turn.ConversationID)
		return err == nil && tk.DeskRef != ""
	})
	cardTS := strings.TrimPrefix(tk.DeskRef, "slack:C0AGENTS:")
	if posts := api.called("chat.postMessage"); len(posts) != 1 || posts[0].Get("channel") != "C0AGENTS" {
		t.Fatalf("posts = %v, want one card in C0AGENTS", posts)
	}

	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U0ANN"},
		"channel": map[string]any{"id": "C0AGENTS"}, "container": map[string]any{"type": "message", "message_ts": cardTS, "channel_id": "C0AGENTS"},
		"actions": []map[string]any{{"type": "button", "block_id": "ticket", "action_id": "tandem_claim", "value": tk.ID}}})
	if code := send(deskRequest(t, base, "wrong-secret", "application/x-www-form-urlencoded", url.Values{"payload": {string(payload)}}.Encode())); code != http.StatusUnauthorized {
		t.Errorf("forged click: status %d, want 401", code)
	}
	if code := send(deskRequest(t, base, secret, "application/x-www-form-urlencoded", url.Values{"payload": {string(payload)}}.Encode())); code != http.StatusOK {
		t.Fatalf("click: status %d", code)
	}
	tk, err := a.Store().FindTicketByID(ctx, tk.ID)
	if err != nil || tk.Status != tandem.TicketClaimed {
		t.Fatalf("ticket after the click = %+v, %v; want claimed", tk, err)
	}

	event, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T0SHOP", "event_id": "Ev1",
		"event": map[string]any{"type": "message", "channel": "C0AGENTS", "user": "U0ANN", "text": "Hello, Ann here.",
			"ts": "1700000100.000001", "thread_ts": cardTS}})
	if code := send(deskRequest(t, base, secret, "application/json", string(event))); code != http.StatusOK {
		t.Fatalf("thread reply: status %d", code)
	}
	msgs, err := a.Store().ListMessages(ctx, turn.ConversationID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; last.Role != tandem.RoleAgent || last.Text != "Hello, Ann here." {
		t.Errorf("last message = %+v, want Ann's reply", last)
	}

	if code, body := post(t, base+"/api/v1/bots/demo/messages", `{"user":"visitor-desk","text":"thanks, my order is 1234"}`); code != http.StatusOK {
		t.Fatalf("customer message: %d %s", code, body)
	}
	wait("the relayed message", func() bool {
		for _, p := range api.called("chat.postMessage") {
			if p.Get("thread_ts") == cardTS && strings.Contains(p.Get("text"), "my order is 1234") {
				return true
			}
		}
		return false
	})
}

// TestSlackDeskStaffAccounts: with staff_auth accounts, a Slack user is an agent only when
// a staff account with their profile's email works tickets: until an admin adds Ann, her
// click is refused (told only to her) and creates nobody; once added, it claims.
func TestSlackDeskStaffAccounts(t *testing.T) {
	t.Parallel()
	api := &deskSlack{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	const secret = "desk-signing-secret"
	a, base := startApp(t, "", func(c *config.Config) {
		c.StaffAuth = config.StaffAuthAccounts
		c.SessionSecret = "staff-auth-test-secret-0123456789"
		c.Desks.Slack = &config.SlackDesk{Channel: "C0AGENTS", APIURL: srv.URL + "/api/",
			BotToken: "xoxb-desk-token", SigningSecret: secret}
	})
	ctx := context.Background()
	code, body := post(t, base+"/api/v1/bots/demo/messages", `{"user":"visitor-staff","text":"I want to talk to a human"}`)
	var turn turnJSON
	if err := json.Unmarshal(body, &turn); err != nil || code != http.StatusOK || turn.Handoff == nil {
		t.Fatalf("handoff turn = %d %s", code, body)
	}
	tk, err := a.Store().FindActiveTicket(ctx, turn.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U0ANN"},
		"channel": map[string]any{"id": "C0AGENTS"}, "container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": "C0AGENTS"},
		"actions": []map[string]any{{"type": "button", "block_id": "ticket", "action_id": "tandem_claim", "value": tk.ID}}})
	click := func() {
		t.Helper()
		resp, err := http.DefaultClient.Do(deskRequest(t, base, secret, "application/x-www-form-urlencoded", url.Values{"payload": {string(payload)}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("click: status %d", resp.StatusCode)
		}
	}

	click()
	for deadline := time.Now().Add(30 * time.Second); len(api.called("chat.postEphemeral")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the refusal")
		}
	}
	if got := api.called("chat.postEphemeral")[0]; got.Get("user") != "U0ANN" || !strings.Contains(got.Get("text"), "ask an admin to add ann@example.com") {
		t.Errorf("ephemeral = %v, want Ann told to ask an admin", got)
	}
	if tk, err := a.Store().FindTicketByID(ctx, tk.ID); err != nil || tk.Status != tandem.TicketQueued {
		t.Errorf("ticket after a stranger's click = %+v, %v; want still queued", tk, err)
	}
	if _, err := a.Store().FindAgentByEmail(ctx, "ann@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("FindAgentByEmail(ann) = %v, want no agent created", err)
	}

	ann := &tandem.Agent{Name: "Ann", Email: "ann@example.com", Role: tandem.AgentRoleAgent}
	if err := a.Store().CreateAgent(ctx, ann); err != nil {
		t.Fatal(err)
	}
	click()
	if tk, err := a.Store().FindTicketByID(ctx, tk.ID); err != nil || tk.Status != tandem.TicketClaimed || tk.AgentID != ann.ID {
		t.Errorf("ticket after Ann's click = %+v, %v; want claimed by her", tk, err)
	}
}
