package discord

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tandemhq/tandem"
)

// deadline bounds every wait in the gateway tests; nothing is asserted on time.
const deadline = 10 * time.Second

// selfID is the bot user the fake gateway's READY names.
const selfID = "900000000000000001"

// fakeGateway speaks Discord's gateway protocol (and the REST calls around it) to one
// client: GET /api/v*/gateway names its WebSocket; on it, op 10 HELLO, then it waits for
// op 2 IDENTIFY, answers with op 0 READY and sends the events pushed to it, answering every
// op 1 heartbeat with op 11.
type fakeGateway struct {
	t        *testing.T
	srv      *httptest.Server
	identify chan json.RawMessage // op 2 payloads
	events   chan event
	acks     chan json.RawMessage // interaction callback bodies
	lookup   int                  // status of the gateway lookup; 0 means 200

	mu      sync.Mutex
	history map[string][]map[string]any // DM channel id → its messages, for GET .../messages
	fetches chan string                 // "channel after" of every history request
}

// event is one dispatch (op 0) to send.
type event struct {
	Type string
	Data any
}

func newFakeGateway(t *testing.T) *fakeGateway {
	t.Helper()
	g := &fakeGateway{t: t, identify: make(chan json.RawMessage, 1), events: make(chan event, 16),
		acks: make(chan json.RawMessage, 16), history: map[string][]map[string]any{}, fetches: make(chan string, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/{version}/gateway", func(w http.ResponseWriter, r *http.Request) {
		if g.lookup != 0 {
			writeJSON(w, g.lookup, map[string]any{"message": "401: Unauthorized", "code": 0})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"url": "ws://" + r.Host})
	})
	mux.HandleFunc("POST /api/{version}/interactions/{id}/{token}/callback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.acks <- body
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/{version}/users/@me/channels", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			RecipientID string `json:"recipient_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		writeJSON(w, http.StatusOK, map[string]any{"id": "dm-" + body.RecipientID, "type": 1})
	})
	mux.HandleFunc("GET /api/{version}/channels/{id}/messages", g.serveHistory)
	mux.HandleFunc("GET /{$}", g.serveWS)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// serveHistory answers like Discord: the messages after ?after (the oldest ?limit of them),
// newest first.
func (g *fakeGateway) serveHistory(w http.ResponseWriter, r *http.Request) {
	ch, after := r.PathValue("id"), r.URL.Query().Get("after")
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || after == "" {
		g.t.Errorf("history request %s, want limit and after", r.URL)
	}
	g.fetches <- ch + " " + after
	g.mu.Lock()
	var out []map[string]any
	for _, m := range g.history[ch] { // stored oldest first
		if compareIDs(m["id"].(string), after) > 0 && len(out) < limit {
			out = append(out, m)
		}
	}
	g.mu.Unlock()
	slices.Reverse(out)
	writeJSON(w, http.StatusOK, out)
}

// post adds e's message to its channel's history, as if it had been sent, and returns e.
func (g *fakeGateway) post(e event) event {
	m := e.Data.(map[string]any)
	g.mu.Lock()
	defer g.mu.Unlock()
	ch := m["channel_id"].(string)
	g.history[ch] = append(g.history[ch], m)
	return e
}

type frame struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d,omitempty"`
	Seq  int64           `json:"s,omitempty"`
	Type string          `json:"t,omitempty"`
}

func (g *fakeGateway) serveWS(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("encoding"); v != "json" {
		g.t.Errorf("gateway encoding = %q, want json", v)
	}
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		g.t.Errorf("upgrade: %v", err)
		return
	}
	defer c.Close()
	var mu sync.Mutex
	send := func(op int, typ string, seq int64, d any) error {
		raw, err := json.Marshal(d)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		return c.WriteJSON(frame{Op: op, Type: typ, Seq: seq, Data: raw})
	}
	if err := send(10, "", 0, map[string]any{"heartbeat_interval": 45000}); err != nil {
		g.t.Errorf("hello: %v", err)
		return
	}
	identified, done := make(chan json.RawMessage, 1), make(chan struct{})
	go func() {
		defer close(done)
		for {
			var f frame
			if err := c.ReadJSON(&f); err != nil {
				return // the client closed
			}
			switch f.Op {
			case 1:
				_ = send(11, "", 0, nil)
			case 2:
				identified <- f.Data
			}
		}
	}()
	select {
	case d := <-identified:
		g.identify <- d
	case <-done:
		return
	}
	seq := int64(1)
	ready := map[string]any{"v": 9, "session_id": "session-1", "guilds": []any{},
		"user": map[string]any{"id": selfID, "username": "tandem", "bot": true}}
	if err := send(0, "READY", seq, ready); err != nil {
		g.t.Errorf("ready: %v", err)
		return
	}
	for {
		select {
		case e := <-g.events:
			seq++
			if err := send(0, e.Type, seq, e.Data); err != nil {
				return
			}
		case <-done:
			return
		}
	}
}

// dm is a MESSAGE_CREATE in a direct message.
func dm(id, author, content string) event {
	return event{"MESSAGE_CREATE", map[string]any{"id": id, "channel_id": "dm-1", "type": 0, "content": content,
		"timestamp": "2026-11-25T03:00:00.000000+00:00", "author": map[string]any{"id": author, "username": "ann"}}}
}

// edit returns e with its data changed by f.
func edit(e event, f func(m map[string]any)) event {
	f(e.Data.(map[string]any))
	return e
}

// click is an INTERACTION_CREATE for a button click in a DM.
func click(id, user, customID string) event {
	return event{"INTERACTION_CREATE", map[string]any{"id": id, "application_id": "app-1", "type": 3,
		"token": "itoken-" + id, "channel_id": "dm-1", "version": 1,
		"user": map[string]any{"id": user, "username": "ann"},
		"data": map[string]any{"custom_id": customID, "component_type": 2}}}
}

// scriptedReceiver is the engine: fail decides each call's error from the inbound message
// and how many times it was handed over before.
type scriptedReceiver struct {
	fail  func(in tandem.Inbound, before int) error
	mu    sync.Mutex
	got   []tandem.Inbound
	calls chan tandem.Inbound
}

func newReceiver(fail func(tandem.Inbound, int) error) *scriptedReceiver {
	if fail == nil {
		fail = func(tandem.Inbound, int) error { return nil }
	}
	return &scriptedReceiver{fail: fail, calls: make(chan tandem.Inbound, 64)}
}

func (r *scriptedReceiver) HandleMessage(_ context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	r.mu.Lock()
	before := 0
	for _, g := range r.got {
		if g.ProviderID == in.ProviderID {
			before++
		}
	}
	r.got = append(r.got, in)
	r.mu.Unlock()
	r.calls <- in
	if err := r.fail(in, before); err != nil {
		return nil, err
	}
	return &tandem.Turn{ConversationID: "c1", MessageID: "m1"}, nil
}

// waitFor waits until the receiver got n calls with provider id pid.
func (r *scriptedReceiver) waitFor(t *testing.T, pid string, n int) {
	t.Helper()
	timeout := time.After(deadline)
	for n > 0 {
		select {
		case in := <-r.calls:
			if in.ProviderID == pid {
				n--
			}
		case <-timeout:
			t.Fatalf("the engine never got %s often enough", pid)
		}
	}
}

func (r *scriptedReceiver) received() []tandem.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tandem.Inbound(nil), r.got...)
}

// runGateway starts k.Run against g and returns a stop that ends it and returns Run's error.
func runGateway(t *testing.T, g *fakeGateway, k *Connector, r *scriptedReceiver) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, r) }()
	select {
	case d := <-g.identify:
		var id struct {
			Token   string `json:"token"`
			Intents int    `json:"intents"`
		}
		if err := json.Unmarshal(d, &id); err != nil {
			t.Fatalf("identify: %v: %s", err, d)
		}
		if id.Token != "Bot tok" || id.Intents != 1<<12|1<<15 {
			t.Errorf("identify token %q intents %d, want %q and DirectMessages|MessageContent (%d)", id.Token, id.Intents, "Bot tok", 1<<12|1<<15)
		}
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before identifying: %v", err)
	case <-time.After(deadline):
		cancel()
		t.Fatal("no IDENTIFY")
	}
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(deadline):
			t.Fatal("Run did not return after its context was done")
			return nil
		}
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	const ann, bob = "80351110224678912", "80351110224678913"
	down := errors.New("database is down")

	tests := []struct {
		name   string
		fail   func(tandem.Inbound, int) error
		events []event
		last   string         // provider id of the last call wanted (want[last] times)
		want   map[string]int // calls per provider id
		maybe  string         // a provider id that may or may not have been handled yet
		acks   int            // interaction callbacks wanted
		check  func(t *testing.T, got []tandem.Inbound)
	}{
		{
			name: "OK",
			events: []event{
				edit(dm("m-bot", bob, "beep"), func(m map[string]any) { m["author"].(map[string]any)["bot"] = true }),
				dm("m-self", selfID, "our own echo"),
				edit(dm("m-guild", ann, "in a server"), func(m map[string]any) { m["guild_id"] = "g-1" }),
				edit(dm("m-pin", ann, ""), func(m map[string]any) { m["type"] = 6 }),
				dm("m-1", ann, "where is my order?"),
			},
			last: "m-1",
			want: map[string]int{"m-1": 1},
			check: func(t *testing.T, got []tandem.Inbound) {
				in := got[0]
				if in.BotID != "demo" || in.Channel != tandem.ChannelDiscord || in.ExternalID != ann ||
					in.Text != "where is my order?" || in.ProviderID != "m-1" || in.ReceivedAt.IsZero() {
					t.Errorf("inbound = %+v", in)
				}
			},
		},
		{
			name: "OKRetried",
			fail: func(_ tandem.Inbound, before int) error {
				if before < 2 {
					return down
				}
				return nil
			},
			events: []event{dm("m-1", ann, "hello")},
			last:   "m-1",
			want:   map[string]int{"m-1": 3},
		},
		{
			name: "OKOrderPerCustomer",
			events: []event{dm("m-1", ann, "one"), dm("m-2", bob, "hi"), dm("m-3", ann, "two"),
				dm("m-4", ann, "three")},
			last:  "m-4",
			want:  map[string]int{"m-1": 1, "m-3": 1, "m-4": 1},
			maybe: "m-2", // bob's, handled concurrently with ann's
			check: func(t *testing.T, got []tandem.Inbound) {
				var order []string
				for _, in := range got {
					if in.ExternalID == ann {
						order = append(order, in.Text)
					}
				}
				if strings.Join(order, ",") != "one,two,three" {
					t.Errorf("ann's messages reached the engine as %v, want in order", order)
				}
			},
		},
		{
			name: "ErrGivesUp",
			fail: func(in tandem.Inbound, _ int) error {
				if in.ProviderID == "m-1" {
					return down
				}
				return nil
			},
			events: []event{dm("m-1", ann, "lost"), dm("m-2", ann, "next")},
			last:   "m-2",
			want:   map[string]int{"m-1": 3, "m-2": 1},
		},
		{
			name: "ErrInvalidNotRetried",
			fail: func(in tandem.Inbound, _ int) error {
				if in.ProviderID == "m-1" {
					return tandem.Errorf(tandem.EINVALID, "empty message")
				}
				return nil
			},
			events: []event{dm("m-1", ann, ""), dm("m-2", ann, "next")},
			last:   "m-2",
			want:   map[string]int{"m-1": 1, "m-2": 1},
		},
		{
			name: "OKQuickReply",
			events: []event{
				click("i-other", ann, "not-a-quick-reply"),
				edit(click("i-guild", ann, "qr:track"), func(m map[string]any) { m["guild_id"] = "g-1" }),
				click("i-1", ann, "qr:track"),
			},
			last: "i-1",
			want: map[string]int{"i-1": 1},
			acks: 1,
			check: func(t *testing.T, got []tandem.Inbound) {
				if in := got[0]; in.Text != "track" || in.ExternalID != ann || in.Channel != tandem.ChannelDiscord {
					t.Errorf("inbound = %+v, want ann's payload track", in)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newFakeGateway(t)
			k := newTestConnector(t, g.srv)
			k.attempts = 3
			r := newReceiver(tc.fail)
			stop := runGateway(t, g, k, r)
			for _, e := range tc.events {
				g.events <- e
			}
			r.waitFor(t, tc.last, tc.want[tc.last])
			if err := stop(); err != nil {
				t.Errorf("Run = %v, want nil after a shutdown", err)
			}
			got := r.received()
			count := map[string]int{}
			for _, in := range got {
				count[in.ProviderID]++
			}
			for pid, n := range tc.want {
				if count[pid] != n {
					t.Errorf("%s reached the engine %d times, want %d (all calls: %v)", pid, count[pid], n, count)
				}
			}
			for pid := range count {
				if _, ok := tc.want[pid]; !ok && pid != tc.maybe {
					t.Errorf("%s reached the engine; it is not a customer's message", pid)
				}
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			for range tc.acks {
				select {
				case body := <-g.acks:
					var ack struct {
						Type int `json:"type"`
					}
					if err := json.Unmarshal(body, &ack); err != nil || ack.Type != 6 {
						t.Errorf("interaction callback = %s, want type 6 (deferred update)", body)
					}
				default:
					t.Error("the button click was not acknowledged")
				}
			}
			if n := len(g.acks); n != 0 {
				t.Errorf("%d more interaction callbacks, want none", n)
			}
		})
	}

	t.Run("ErrLookup", func(t *testing.T) {
		t.Parallel()
		g := newFakeGateway(t)
		g.lookup = http.StatusUnauthorized
		k := newTestConnector(t, g.srv)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := k.Run(ctx, newReceiver(nil)); err == nil || ctx.Err() != nil {
			t.Errorf("Run = %v, want an error at once when the gateway cannot be opened", err)
		}
	})
}
