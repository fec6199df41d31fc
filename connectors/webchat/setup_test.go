package webchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/memory"
	"github.com/tandemhq/tandem/storage"
)

// wait bounds every wait for a frame; generous, it only matters when a test fails.
const wait = 20 * time.Second

var citation = tandem.Citation{DocID: "shipping", Title: "Shipping policy", URL: "https://help.example.com/shipping"}

// world is a deterministic engine and store in one: "human" hands off (then messages are
// relayed, unanswered), "boom" fails with an internal error, anything else is answered with
// a citation and a quick reply. It keeps every inbound it saw.
type world struct {
	mu       sync.Mutex
	clock    time.Time
	next     int
	convs    map[string]*tandem.Conversation
	msgs     map[string][]tandem.Message
	seen     map[string]string // provider id -> conversation
	received []tandem.Inbound
	votes    map[string]tandem.AnswerFeedback // by message id
}

func newWorld() *world {
	return &world{clock: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), convs: map[string]*tandem.Conversation{},
		msgs: map[string][]tandem.Message{}, seen: map[string]string{}, votes: map[string]tandem.AnswerFeedback{}}
}

func (w *world) tick() time.Time { w.clock = w.clock.Add(time.Second); return w.clock }

func (w *world) add(conv string, m tandem.Message) tandem.Message {
	w.next++
	m.ID, m.ConversationID, m.CreatedAt = fmt.Sprintf("m%03d", w.next), conv, w.tick()
	w.msgs[conv] = append(w.msgs[conv], m)
	return m
}

func (w *world) HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.received = append(w.received, in)
	if in.Text == "boom" {
		return nil, errors.New("disk on fire at /var/lib/secret")
	}
	cust := "cust-" + in.ExternalID
	if conv, ok := w.seen[in.ProviderID]; ok {
		return &tandem.Turn{ConversationID: conv, CustomerID: cust, Duplicate: true}, nil
	}
	var conv *tandem.Conversation
	if c, ok := w.convs[in.ConversationID]; ok && c.Status != tandem.StatusClosed {
		conv = c
	} else if c := w.open(in.BotID, cust); c != nil {
		conv = c
	} else {
		w.next++
		conv = &tandem.Conversation{ID: fmt.Sprintf("conv-%d", w.next), BotID: in.BotID, CustomerID: cust,
			Channel: in.Channel, Status: tandem.StatusOpen, CreatedAt: w.clock}
		w.convs[conv.ID] = conv
	}
	w.seen[in.ProviderID] = conv.ID
	msg := w.add(conv.ID, tandem.Message{Role: tandem.RoleCustomer, Channel: in.Channel, Text: in.Text, ProviderID: in.ProviderID})
	turn := &tandem.Turn{ConversationID: conv.ID, CustomerID: cust, MessageID: msg.ID}
	switch {
	case conv.Status == tandem.StatusHandoff:
		return turn, nil // relayed to the agent
	case in.Text == "human":
		conv.Status = tandem.StatusHandoff
		turn.Replies = []tandem.Reply{{Text: "Connecting you with a person."}}
		turn.Handoff = &tandem.HandoffInfo{TicketID: "t-1", Queue: "support"}
	default:
		turn.Replies = []tandem.Reply{{Text: "Shipping takes 3 days.", Citations: []tandem.Citation{citation},
			QuickReplies: []tandem.QuickReply{{Title: "Track", Payload: "Where is my order?"}}}}
	}
	for i, r := range turn.Replies {
		turn.Replies[i].MessageID = w.add(conv.ID, tandem.Message{Role: tandem.RoleBot, Channel: in.Channel, Text: r.Text, Citations: r.Citations}).ID
	}
	return turn, nil
}

func (w *world) open(bot, cust string) *tandem.Conversation {
	var best *tandem.Conversation
	for _, c := range w.convs {
		if c.BotID == bot && c.CustomerID == cust && c.Status != tandem.StatusClosed && (best == nil || c.ID > best.ID) {
			best = c
		}
	}
	return best
}

// agent writes an agent's reply into conv, as handoff.Reply does, and returns it.
func (w *world) agent(conv, text string) tandem.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.add(conv, tandem.Message{Role: tandem.RoleAgent, Text: text, AuthorID: "ann"})
}

func (w *world) setStatus(conv string, st tandem.ConversationStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.convs[conv].Status = st
}

func (w *world) inbound() []tandem.Inbound {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]tandem.Inbound(nil), w.received...)
}

func (w *world) FindIdentity(ctx context.Context, ch tandem.Channel, ext string) (*tandem.Identity, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, in := range w.received {
		if in.Channel == ch && in.ExternalID == ext {
			return &tandem.Identity{ID: "id-" + ext, CustomerID: "cust-" + ext, Channel: ch, ExternalID: ext}, nil
		}
	}
	return nil, tandem.Errorf(tandem.ENOTFOUND, "no identity")
}

func (w *world) FindOpenConversation(ctx context.Context, bot, cust string) (*tandem.Conversation, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.open(bot, cust); c != nil {
		cc := *c
		return &cc, nil
	}
	return nil, tandem.Errorf(tandem.ENOTFOUND, "no open conversation")
}

func (w *world) FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.convs[id]
	if !ok {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no conversation %q", id)
	}
	cc := *c
	return &cc, nil
}

func (w *world) ListMessages(ctx context.Context, id string, f storage.MessageFilter) ([]tandem.Message, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []tandem.Message
	for _, m := range w.msgs[id] {
		if f.Since.IsZero() || !m.CreatedAt.Before(f.Since) {
			out = append(out, m)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}

// PutAnswerFeedback follows the store's rules (storage.CheckFeedbackTarget).
func (w *world) PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error {
	if err := storage.CheckAnswerFeedback(f); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for conv, ms := range w.msgs {
		for _, m := range ms {
			if m.ID != f.MessageID {
				continue
			}
			if err := storage.CheckFeedbackTarget(&m, w.convs[conv].CustomerID, f.CustomerID); err != nil {
				return err
			}
			f.ConversationID, f.BotID = conv, w.convs[conv].BotID
			w.votes[m.ID] = *f
			return nil
		}
	}
	return tandem.Errorf(tandem.ENOTFOUND, "message %q not found", f.MessageID)
}

func (w *world) ListAnswerFeedback(ctx context.Context, f storage.AnswerFeedbackFilter) ([]storage.RatedAnswer, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []storage.RatedAnswer
	for _, v := range w.votes {
		if f.ConversationID == "" || v.ConversationID == f.ConversationID {
			out = append(out, storage.RatedAnswer{AnswerFeedback: v})
		}
	}
	return out, nil
}

// vote returns the stored vote on message id.
func (w *world) vote(id string) (tandem.AnswerFeedback, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.votes[id]
	return v, ok
}

var _ webchat.Store = (*world)(nil)

type fixture struct {
	world   *world
	bus     *memory.Bus
	handler *webchat.Handler
	srv     *httptest.Server
}

// setup serves the web chat over the world; opts change its configuration.
func setup(t *testing.T, opts ...func(*webchat.Config)) *fixture {
	t.Helper()
	f := &fixture{world: newWorld(), bus: memory.New(memory.Config{})}
	t.Cleanup(func() { _ = f.bus.Close() })
	cfg := webchat.Config{Secret: []byte("test-secret"), MaxMessageBytes: 64, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	f.handler = webchat.New(cfg, webchat.Deps{Receiver: f.world, Store: f.world, Events: f.bus})
	mux := http.NewServeMux()
	mux.Handle("GET "+webchat.Path, f.handler)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// publish announces a change of conv, as the inbox does.
func (f *fixture) publish(t *testing.T, conv string, kind events.Kind, msgID string) {
	t.Helper()
	if err := f.bus.Publish(context.Background(), events.Event{Topic: conv, Kind: kind, MessageID: msgID, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// client is one browser tab: a cookie jar shared by the tabs of one visitor and a socket.
type client struct {
	t    *testing.T
	jar  http.CookieJar
	conn *websocket.Conn
	res  *http.Response // the handshake's
}

func newJar(t *testing.T) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// dial connects with query (e.g. "bot=demo") and returns the client and the transcript frame.
func (f *fixture) dial(t *testing.T, jar http.CookieJar, query string) (*client, frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + webchat.Path + "?" + query
	conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Jar: jar}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &client{t: t, jar: jar, conn: conn, res: res}
	tr := c.next()
	if tr.Type != "transcript" {
		t.Fatalf("first frame = %+v, want the transcript", tr)
	}
	return c, tr
}

// frame is any server frame, decoded loosely.
type frame struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	Status         string `json:"status"`
	Reset          bool   `json:"reset"`
	Duplicate      bool   `json:"duplicate"`
	LastID         string `json:"last_id"`
	Code           string `json:"code"`
	RetryAfterMS   int64  `json:"retry_after_ms"`
	Role           string `json:"role"` // of typing frames
	VisitorToken   string `json:"visitor_token"`
	MessageID      string `json:"message_id"` // of feedback frames
	Helpful        *bool  `json:"helpful"`
	Replies        []struct {
		ID           string              `json:"id"`
		Text         string              `json:"text"`
		Citations    []tandem.Citation   `json:"citations"`
		QuickReplies []tandem.QuickReply `json:"quick_replies"`
	} `json:"replies"`
	Messages []wireMessage   `json:"messages"`
	Message  json.RawMessage `json:"message"` // an object in message frames, a string in error frames
}

type wireMessage struct {
	ID       string      `json:"id"`
	Role     tandem.Role `json:"role"`
	Text     string      `json:"text"`
	ClientID string      `json:"client_id"`
	Helpful  *bool       `json:"helpful"`
}

func (fr frame) message(t *testing.T) wireMessage {
	t.Helper()
	var m wireMessage
	if err := json.Unmarshal(fr.Message, &m); err != nil {
		t.Fatalf("message frame %s: %v", fr.Message, err)
	}
	return m
}

func (c *client) send(typ websocket.MessageType, data string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.conn.Write(ctx, typ, []byte(data)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) say(text, id string) frame {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"type": "message", "text": text, "id": id})
	c.send(websocket.MessageText, string(b))
	return c.next()
}

func (c *client) next() frame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	typ, data, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var fr frame
	if typ != websocket.MessageText || json.Unmarshal(data, &fr) != nil {
		c.t.Fatalf("frame %q is not JSON text", data)
	}
	return fr
}

func visitorCookie(t *testing.T, jar http.CookieJar, base string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == webchat.CookieName {
			return c
		}
	}
	t.Fatal("no visitor cookie")
	return nil
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
