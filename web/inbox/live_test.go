package inbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/eventstest"
	"github.com/tandemhq/tandem/events/memory"
	"github.com/tandemhq/tandem/web/inbox"
)

// stream is an open GET /inbox/events response.
type stream struct {
	res    *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// openStream starts an event stream on srv for the agent with cookie; query is "" (the
// queue) or "?ticket=ID".
func openStream(t *testing.T, srv *httptest.Server, cookie *http.Cookie, query string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/inbox/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		cancel()
		return nil, res.StatusCode
	}
	s := &stream{res: res, r: bufio.NewReader(res.Body), cancel: cancel}
	t.Cleanup(s.close)
	if got := res.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", got)
	}
	if block := s.next(t); block != "retry: 3000" {
		t.Errorf("first block = %q, want the reconnection delay", block)
	}
	return s, res.StatusCode
}

func (s *stream) close() {
	s.cancel()
	s.res.Body.Close()
}

// next returns the stream's next block (lines up to a blank line), without its final newline.
func (s *stream) next(t *testing.T) string {
	t.Helper()
	var lines []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream after %q: %v", lines, err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return strings.Join(lines, "\n")
		}
		lines = append(lines, line)
	}
}

// nextEvent returns the next event's name and data, skipping heartbeats.
func (s *stream) nextEvent(t *testing.T) (string, events.Event) {
	t.Helper()
	for {
		block := s.next(t)
		if strings.HasPrefix(block, ":") {
			continue
		}
		name, data, ok := strings.Cut(strings.TrimPrefix(block, "event: "), "\ndata: ")
		if !ok {
			t.Fatalf("block %q, want an event", block)
		}
		var e events.Event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		return name, e
	}
}

// missingBus is a bus that tells every new subscriber it missed events.
type missingBus struct{ *memory.Bus }

func (b missingBus) Subscribe(ctx context.Context, topic string) (<-chan events.Event, error) {
	ch := make(chan events.Event, 1)
	ch <- events.Event{Topic: topic, Kind: events.KindMissed, At: now}
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

// TestEvents: a ticket page's stream carries its conversation's events, the queue's the
// tickets' (from the engine's desk and the inbox's own claims), each as a refetch event;
// a bus's KindMissed tells the page to refetch too; typing is only shown, not refetched.
func TestEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  func(*inbox.Config, *inbox.Deps)
		queue bool // follow the queue, not the ticket
		act   func(t *testing.T, f *fixture, srv *httptest.Server)
		want  func(f *fixture) events.Event // At is not compared
		event string                        // the SSE event's name; "" means refetch
	}{
		{"OKTicketRelay", nil, false,
			func(t *testing.T, f *fixture, _ *httptest.Server) {
				if err := inbox.NewDesk(f.bus, nil).Relay(t.Context(), f.conv, &tandem.Message{ID: "m-1"}); err != nil {
					t.Fatal(err)
				}
			},
			func(f *fixture) events.Event {
				return events.Event{Topic: f.conv.ID, Kind: events.KindMessage, MessageID: "m-1"}
			}, ""},
		{"OKTicketClaimedElsewhere", nil, false, claim,
			func(f *fixture) events.Event { return events.Event{Topic: f.conv.ID, Kind: events.KindStatus} }, ""},
		{"OKQueueTicketOpened", nil, true,
			func(t *testing.T, f *fixture, _ *httptest.Server) {
				if err := inbox.NewDesk(f.bus, nil).TicketOpened(t.Context(), f.conv, f.ticket.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(*fixture) events.Event { return events.Event{Topic: events.TopicTickets, Kind: events.KindStatus} }, ""},
		{"OKQueueTicketEscalated", nil, true,
			func(t *testing.T, f *fixture, _ *httptest.Server) {
				if err := inbox.NewDesk(f.bus, nil).TicketChanged(t.Context(), f.ticket.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(*fixture) events.Event { return events.Event{Topic: events.TopicTickets, Kind: events.KindStatus} }, ""},
		{"OKQueueClaimed", nil, true, claim,
			func(*fixture) events.Event { return events.Event{Topic: events.TopicTickets, Kind: events.KindStatus} }, ""},
		{"OKMissedRefetches", func(_ *inbox.Config, d *inbox.Deps) { d.Events = missingBus{memory.New(memory.Config{})} }, false,
			func(*testing.T, *fixture, *httptest.Server) {},
			func(f *fixture) events.Event { return events.Event{Topic: f.conv.ID, Kind: events.KindMissed} }, ""},
		{"OKTyping", nil, false,
			func(t *testing.T, f *fixture, _ *httptest.Server) {
				e := events.Event{Topic: f.conv.ID, Kind: events.KindTyping, Role: tandem.RoleCustomer, At: now}
				if err := f.bus.Publish(t.Context(), e); err != nil {
					t.Fatal(err)
				}
			},
			func(f *fixture) events.Event {
				return events.Event{Topic: f.conv.ID, Kind: events.KindTyping, Role: tandem.RoleCustomer}
			}, "typing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*inbox.Config, *inbox.Deps)
			if tt.opts != nil {
				opts = append(opts, tt.opts)
			}
			f := setupWith(t, opts...)
			srv := httptest.NewServer(f.h)
			t.Cleanup(srv.Close)
			query := "?ticket=" + url.QueryEscape(f.ticket.ID)
			if tt.queue {
				query = ""
			}
			s, status := openStream(t, srv, f.signIn(t, "bob@example.com"), query)
			if status != http.StatusOK {
				t.Fatalf("open stream: %d", status)
			}
			tt.act(t, f, srv)
			name, got := s.nextEvent(t)
			want, wantName := tt.want(f), tt.event
			if wantName == "" {
				wantName = "refetch"
			}
			if name != wantName || got.Topic != want.Topic || got.Kind != want.Kind || got.MessageID != want.MessageID ||
				got.Role != want.Role || got.At.IsZero() {
				t.Errorf("event %q = %+v, want %q %+v with a time", name, got, wantName, want)
			}
		})
	}
}

// claim has another agent claim the fixture's ticket through the inbox.
func claim(t *testing.T, f *fixture, _ *httptest.Server) {
	t.Helper()
	cookie := f.signIn(t, "ann@example.com")
	res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/claim", url.Values{"csrf": {f.csrf(t, cookie)}}, cookie))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d %s", res.StatusCode, body)
	}
}

func TestEventsHeartbeat(t *testing.T) {
	t.Parallel()
	f := setupWith(t, func(c *inbox.Config, _ *inbox.Deps) { c.Heartbeat = time.Millisecond })
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	s, _ := openStream(t, srv, f.signIn(t, "ann@example.com"), "")
	if block := s.next(t); block != ": heartbeat" {
		t.Errorf("idle stream sent %q, want a heartbeat comment", block)
	}
}

// TestEventsRefused: streams are for signed-in agents and existing tickets, and need a bus.
func TestEventsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     func(*inbox.Config, *inbox.Deps)
		signedIn bool
		query    string
		status   int
	}{
		{"ErrSignedOut", nil, false, "", http.StatusForbidden},
		{"ErrUnknownTicket", nil, true, "?ticket=nope", http.StatusNotFound},
		{"ErrNoBus", func(_ *inbox.Config, d *inbox.Deps) { d.Events = nil }, true, "", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*inbox.Config, *inbox.Deps)
			if tt.opts != nil {
				opts = append(opts, tt.opts)
			}
			f := setupWith(t, opts...)
			var c *http.Cookie
			if tt.signedIn {
				c = f.signIn(t, "ann@example.com")
			}
			res, body := f.do(t, get("/inbox/events"+tt.query, c))
			if res.StatusCode != tt.status {
				t.Errorf("status = %d (%s), want %d", res.StatusCode, body, tt.status)
			}
		})
	}
}

// TestEventsLimit: beyond MaxStreams a stream is refused with 503; a client that goes away
// ends its stream and frees its place.
func TestEventsLimit(t *testing.T) {
	t.Parallel()
	f := setupWith(t, func(c *inbox.Config, _ *inbox.Deps) { c.MaxStreams = 1 })
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	cookie := f.signIn(t, "ann@example.com")
	first, _ := openStream(t, srv, cookie, "")
	res, body := f.do(t, get("/inbox/events", cookie))
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many live pages") {
		t.Errorf("second stream: %d %q (Retry-After %q), want 503 saying why, with Retry-After", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	first.close()
	// The server notices the disconnect soon; until then the place is taken.
	for {
		s, status := openStream(t, srv, cookie, "")
		if status == http.StatusOK {
			s.close()
			break
		}
		if status != http.StatusServiceUnavailable {
			t.Fatalf("stream after the first one left: %d", status)
		}
		select {
		case <-t.Context().Done():
			t.Fatal("the first stream's handler never ended")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestEventsClose: closing the inbox ends its streams (so the server can shut down) and
// refuses new ones.
func TestEventsClose(t *testing.T) {
	t.Parallel()
	f := setup(t)
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	cookie := f.signIn(t, "ann@example.com")
	s, _ := openStream(t, srv, cookie, "")
	f.h.Close()
	if rest, err := io.ReadAll(s.r); err != nil {
		t.Errorf("stream after Close: %q, %v; want it ended", rest, err)
	}
	if _, status := openStream(t, srv, cookie, ""); status != http.StatusServiceUnavailable {
		t.Errorf("stream after Close: %d, want 503", status)
	}
}

// TestTyping: the ticket's holder typing a reply is announced to the customer's web chat;
// others are refused.
func TestTyping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claim  bool // the typing agent holds the ticket
		csrf   bool
		status int
	}{
		{"OK", true, true, http.StatusNoContent},
		{"ErrNotTheHolder", false, true, http.StatusConflict},
		{"ErrNoToken", true, false, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			sub := eventstest.Subscribe(t, f.bus, f.conv.ID)
			cookie := f.signIn(t, "ann@example.com")
			token := f.csrf(t, cookie)
			if tt.claim {
				if res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/claim", url.Values{"csrf": {token}}, cookie)); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("claim: %d %s", res.StatusCode, body)
				}
				eventstest.Next(t, sub) // the claim's
			}
			form := url.Values{}
			if tt.csrf {
				form.Set("csrf", token)
			}
			res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/typing", form, cookie))
			if res.StatusCode != tt.status {
				t.Fatalf("typing: %d %s, want %d", res.StatusCode, body, tt.status)
			}
			if tt.status != http.StatusNoContent {
				return
			}
			if e := eventstest.Next(t, sub); e.Kind != events.KindTyping || e.Role != tandem.RoleAgent || !e.At.Equal(now.Add(5*time.Minute)) {
				t.Errorf("event = %+v, want the agent typing at the inbox's now", e)
			}
		})
	}
}
