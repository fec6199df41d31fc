package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/pgtest"
)

// TestWebChatAcrossReplicas: two replicas share one PostgreSQL database. A customer chats on
// replica B's socket and asks for a human; an agent claims and replies in replica A's inbox;
// the reply reaches the customer's socket on B through LISTEN/NOTIFY. The agent closes the
// ticket: the bot's CSAT question reaches the socket the same way, and the customer's rating
// is thanked and counted in B's metrics. With SQLite the same path runs through the
// in-process bus of one server.
func TestWebChatAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, tt := range replicaPairs {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			agentBase, customerBase := tt.bases(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			jar, _ := cookiejar.New(nil)
			ws := "ws" + strings.TrimPrefix(customerBase, "http") + webchat.Path + "?bot=demo"
			conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPClient: &http.Client{Jar: jar}})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			next := func(want string) map[string]any {
				t.Helper()
				for {
					_, data, err := conn.Read(ctx)
					if err != nil {
						t.Fatalf("waiting for a %q frame: %v", want, err)
					}
					var f map[string]any
					if err := json.Unmarshal(data, &f); err != nil {
						t.Fatalf("frame %s: %v", data, err)
					}
					if f["type"] == want {
						return f
					}
				}
			}
			next("transcript")
			if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"message","text":"I want to talk to a human","id":"c-1"}`)); err != nil {
				t.Fatal(err)
			}
			next("turn")
			if st := next("status"); st["status"] != "handoff" {
				t.Fatalf("status after asking for a human = %v, want handoff", st)
			}

			const reply = "Hi, Ann here from the other replica."
			closeTicket := agentReply(t, agentBase, reply)
			m := next("message")
			msg, _ := m["message"].(map[string]any)
			if msg["role"] != "agent" || msg["text"] != reply {
				t.Errorf("pushed %v, want the agent's reply", m)
			}

			closeTicket()
			if st := next("status"); st["status"] != "open" {
				t.Fatalf("status after the close = %v, want open (the bot awaits the rating)", st)
			}
			m = next("message")
			if msg, _ := m["message"].(map[string]any); msg["role"] != "bot" || msg["text"] != bots.DefaultCSATQuestion {
				t.Errorf("pushed %v, want the CSAT question", m)
			}
			if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"message","text":"5 stars","id":"c-2"}`)); err != nil {
				t.Fatal(err)
			}
			turn := next("turn")
			if replies, _ := turn["replies"].([]any); len(replies) != 1 || replies[0].(map[string]any)["text"] != bots.DefaultCSATThanks {
				t.Errorf("rating answered %v, want the thanks", turn)
			}
			res, err := http.Get(customerBase + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if b, _ := io.ReadAll(res.Body); !strings.Contains(string(b), `tandem_csat_responses_total{bot="demo",score="5"} 1`) {
				t.Errorf("metrics lack the rating")
			}
		})
	}
}

var ticketRE = regexp.MustCompile(`href="(/inbox/tickets/[^"]+)"`)
var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// agentReply signs an agent in to base's inbox, claims the only ticket and replies. It
// returns a function that closes the ticket.
func agentReply(t *testing.T, base, text string) (closeTicket func()) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(res *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", res.Request.URL, res.StatusCode, b)
		}
		return string(b)
	}
	queue := page(c.PostForm(base+"/inbox/signin", url.Values{"email": {"ann@example.com"}, "next": {"/inbox/"}}))
	m := ticketRE.FindStringSubmatch(queue)
	if m == nil {
		t.Fatalf("no ticket in the queue:\n%s", queue)
	}
	ticket := base + m[1]
	tok := csrfRE.FindStringSubmatch(page(c.Get(ticket)))
	if tok == nil {
		t.Fatal("no csrf token on the ticket page")
	}
	page(c.PostForm(ticket+"/claim", url.Values{"csrf": {tok[1]}}))
	page(c.PostForm(ticket+"/reply", url.Values{"csrf": {tok[1]}, "text": {text}}))
	return func() { page(c.PostForm(ticket+"/close", url.Values{"csrf": {tok[1]}})) }
}

// replicaPairs are the setups of the across-replicas tests: one SQLite server playing both
// the agent's and the customer's side, and two PostgreSQL replicas sharing a schema and a
// session secret.
var replicaPairs = []struct {
	name  string
	bases func(t *testing.T) (agent, customer string)
}{
	{"OKSQLite", func(t *testing.T) (string, string) {
		base := start(t, "")
		return base, base
	}},
	{"OKPostgresTwoReplicas", func(t *testing.T) (string, string) {
		dsn := pgtest.NewSchema(t)
		secret := func(c *config.Config) { c.SessionSecret = "replicas-share-this-secret-0123456789" }
		return start(t, dsn, secret), start(t, dsn, secret)
	}},
}
