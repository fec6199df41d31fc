package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/events"
)

// chatSocket is a customer's web chat socket.
type chatSocket struct {
	conn *websocket.Conn
	ctx  context.Context
}

func dialChat(t *testing.T, ctx context.Context, base string) *chatSocket {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	ws := "ws" + strings.TrimPrefix(base, "http") + webchat.Path + "?bot=demo"
	conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPClient: &http.Client{Jar: jar}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &chatSocket{conn: conn, ctx: ctx}
	c.next(t, "transcript")
	return c
}

// say sends text and waits for its turn.
func (c *chatSocket) say(t *testing.T, id, text string) {
	t.Helper()
	frame, _ := json.Marshal(map[string]string{"type": "message", "text": text, "id": id})
	if err := c.conn.Write(c.ctx, websocket.MessageText, frame); err != nil {
		t.Fatal(err)
	}
	c.next(t, "turn")
}

func (c *chatSocket) next(t *testing.T, typ string) {
	t.Helper()
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			t.Fatalf("waiting for a %q frame: %v", typ, err)
		}
		var f struct{ Type string }
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Type == typ {
			return
		}
	}
}

// eventStream is an inbox page's server-sent event stream as the page's EventSource reads it.
type eventStream struct {
	body io.ReadCloser
	r    *bufio.Reader
}

func openEvents(t *testing.T, c *http.Client, url string) *eventStream {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("%s: %d %s", url, res.StatusCode, b)
	}
	return &eventStream{body: res.Body, r: bufio.NewReader(res.Body)}
}

// next returns the next refetch event, skipping the retry delay and heartbeats.
func (s *eventStream) next(t *testing.T) events.Event {
	t.Helper()
	for {
		var block []string
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				t.Fatalf("read event stream: %v", err)
			}
			if line = strings.TrimSuffix(line, "\n"); line == "" {
				break
			}
			block = append(block, line)
		}
		if len(block) == 2 && block[0] == "event: refetch" {
			var e events.Event
			if err := json.Unmarshal([]byte(strings.TrimPrefix(block[1], "data: ")), &e); err != nil {
				t.Fatalf("event %q: %v", block, err)
			}
			return e
		}
	}
}

// TestInboxEventsAcrossReplicas: an agent's inbox pages on replica A learn live about what
// happens on replica B, where the customer chats: the queue's stream about the new ticket
// (the engine's desk), the ticket's stream about the customer's message to the agent. With
// SQLite, the same path runs through one server's in-process bus. The apps shut down with
// the streams still open, so shutting down must end them.
func TestInboxEventsAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, tt := range replicaPairs {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var streams []*eventStream
			// Registered before the apps start, so it runs after they shut down.
			t.Cleanup(func() {
				for _, s := range streams {
					s.body.Close()
				}
			})
			agentBase, customerBase := tt.bases(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			jar, _ := cookiejar.New(nil)
			agent := &http.Client{Jar: jar}
			res, err := agent.PostForm(agentBase+"/inbox/signin", url.Values{"email": {"ann@example.com"}, "next": {"/inbox/"}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			queue := openEvents(t, agent, agentBase+"/inbox/events")
			streams = append(streams, queue)

			chat := dialChat(t, ctx, customerBase)
			chat.say(t, "c-1", "I want to talk to a human")
			if e := queue.next(t); e.Topic != events.TopicTickets || e.Kind != events.KindStatus {
				t.Fatalf("queue event = %+v, want a status event on %q", e, events.TopicTickets)
			}

			page := func(res *http.Response, err error) string {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return string(b)
			}
			m := ticketRE.FindStringSubmatch(page(agent.Get(agentBase + "/inbox/")))
			if m == nil {
				t.Fatal("no ticket in the queue")
			}
			ticketURL := agentBase + m[1]
			tok := csrfRE.FindStringSubmatch(page(agent.Get(ticketURL)))
			if tok == nil {
				t.Fatal("no csrf token on the ticket page")
			}
			ticket := openEvents(t, agent, agentBase+"/inbox/events?ticket="+url.QueryEscape(strings.TrimPrefix(m[1], "/inbox/tickets/")))
			streams = append(streams, ticket)
			page(agent.PostForm(ticketURL+"/claim", url.Values{"csrf": {tok[1]}}))
			if e := ticket.next(t); e.Kind != events.KindStatus {
				t.Fatalf("ticket event after the claim = %+v, want a status event", e)
			}
			if e := queue.next(t); e.Kind != events.KindStatus {
				t.Fatalf("queue event after the claim = %+v, want a status event", e)
			}

			chat.say(t, "c-2", "Are you still there?")
			// The claim may also be passed on from the queue's topic (the ticket page
			// follows it for changes made elsewhere); the message event comes after.
			e := ticket.next(t)
			for i := 0; i < 2 && e.Kind == events.KindStatus; i++ {
				e = ticket.next(t)
			}
			if e.Kind != events.KindMessage || e.MessageID == "" {
				t.Fatalf("ticket event after the customer's message = %+v, want a message event", e)
			}
			if !strings.Contains(page(agent.Get(ticketURL)), "Are you still there?") {
				t.Error("the ticket page does not show the message its event announced")
			}
		})
	}
}
