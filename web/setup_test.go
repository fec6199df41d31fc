package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web"
)

// fixture is a server wired to a deterministic in-memory engine and transcript store.
type fixture struct {
	srv    *web.Server
	reg    *prometheus.Registry
	engine *scriptedEngine
	pinger *switchPinger
	logs   *syncBuffer
}

type options struct {
	cfg      web.Config
	pinger   bool // wire a pinger (else Deps.Pinger is nil)
	outbound web.OutboundFunc
	feedback web.Feedback
}

func setup(t testing.TB, opts ...func(*options)) *fixture {
	t.Helper()
	o := options{pinger: true}
	for _, f := range opts {
		f(&o)
	}
	f := &fixture{
		reg:    prometheus.NewRegistry(),
		engine: newScriptedEngine(),
		pinger: &switchPinger{},
		logs:   &syncBuffer{},
	}
	cfg := o.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Registerer = f.reg
	cfg.Now = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	deps := web.Deps{Engine: f.engine, Conversations: f.engine, Outbound: o.outbound, Feedback: o.feedback}
	if o.pinger {
		deps.Pinger = f.pinger
	}
	f.srv = web.NewServer(cfg, deps)
	return f
}

// do serves one request in process and returns the recorded response.
func (f *fixture) do(t testing.TB, method, target, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:50000" // the REST API serves this machine when no API key is set
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// switchPinger fails while fail is set.
type switchPinger struct {
	mu   sync.Mutex
	fail bool
}

func (p *switchPinger) set(fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = fail
}

func (p *switchPinger) Ping(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("connection refused")
	}
	return nil
}

// scriptedEngine is a deterministic engine for the "demo" bot that also keeps transcripts,
// so it serves as both web.Engine and web.Conversations. Special texts script failures:
// "panic" panics, "boom" fails with an internal error, "conflict" returns EDUPLICATE, "noturn" returns no turn and no error,
// "human" hands off. Everything else is answered from a one-article knowledge base.
type scriptedEngine struct {
	mu            sync.Mutex
	next          int
	conversations map[string]*tandem.Conversation
	messages      map[string][]tandem.Message
	seen          map[string]string // provider id -> conversation id
	received      []tandem.Inbound
}

func newScriptedEngine() *scriptedEngine {
	return &scriptedEngine{
		conversations: map[string]*tandem.Conversation{},
		messages:      map[string][]tandem.Message{},
		seen:          map[string]string{},
	}
}

var shippingCitation = tandem.Citation{DocID: "shipping-policy", Title: "Shipping policy", URL: "https://help.example.com/shipping"}

func (e *scriptedEngine) HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	if in.BotID != "demo" {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", in.BotID)
	}
	switch in.Text {
	case "panic":
		panic("scripted panic")
	case "boom":
		return nil, fmt.Errorf("query store: %w", errors.New("disk I/O error at /var/lib/secret"))
	case "conflict":
		return nil, tandem.Errorf(tandem.EDUPLICATE, "message already stored")
	case "noturn":
		return nil, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.received = append(e.received, in)
	if in.ProviderID != "" {
		if conv, ok := e.seen[in.ProviderID]; ok {
			return &tandem.Turn{ConversationID: conv, CustomerID: "cust-" + in.ExternalID, Duplicate: true,
				Decision: tandem.Decision{Kind: tandem.DecisionDuplicate, Reason: "provider retry"}}, nil
		}
	}
	conv := in.ConversationID
	if conv == "" {
		e.next++
		conv = fmt.Sprintf("conv-%d", e.next)
		e.conversations[conv] = &tandem.Conversation{ID: conv, BotID: in.BotID, CustomerID: "cust-" + in.ExternalID,
			Channel: in.Channel, Status: tandem.StatusOpen, CreatedAt: in.ReceivedAt, UpdatedAt: in.ReceivedAt}
	} else if _, ok := e.conversations[conv]; !ok {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no conversation %q", conv)
	}
	if in.ProviderID != "" {
		e.seen[in.ProviderID] = conv
	}
	turn := &tandem.Turn{
		ConversationID: conv,
		CustomerID:     "cust-" + in.ExternalID,
		MessageID:      fmt.Sprintf("msg-%d", len(e.messages[conv])+1),
		Annotations: tandem.Annotations{
			Language:  "en",
			Intent:    tandem.IntentScore{Name: "shipping_time", Confidence: 0.9},
			Sentiment: tandem.Sentiment{Label: tandem.SentimentNeutral, Score: 0},
		},
		Decision: tandem.Decision{Kind: tandem.DecisionKnowledge, Reason: "answered from the knowledge base"},
		Replies: []tandem.Reply{{
			Text:         "Standard shipping takes 3–5 business days.",
			Citations:    []tandem.Citation{shippingCitation},
			QuickReplies: []tandem.QuickReply{{Title: "Track my order", Payload: "Where is my order?"}},
		}},
	}
	if in.Text == "4 stars" {
		turn.Decision = tandem.Decision{Kind: tandem.DecisionSurvey, Reason: "rated the closed ticket 4"}
		turn.Replies, turn.CSATScore = []tandem.Reply{{Text: "Thanks for your feedback!"}}, 4
	}
	if in.Text == "human" {
		turn.Decision = tandem.Decision{Kind: tandem.DecisionHandoff, Reason: "customer asked for a human"}
		turn.Replies = []tandem.Reply{{Text: "Connecting you with a person."}}
		turn.Handoff = &tandem.HandoffInfo{TicketID: "t-1", Queue: "support", Reason: "asked"}
	}
	if in.Text == "Where is my order?" {
		turn.Annotations.Intent = tandem.IntentScore{Name: "order_status", Confidence: 0.8}
		turn.Decision = tandem.Decision{Kind: tandem.DecisionIntent, Reason: "intent order_status"}
		turn.Replies = []tandem.Reply{{Text: "Please give me your order number."}}
	}
	ann := turn.Annotations
	n := len(e.messages[conv])
	e.messages[conv] = append(e.messages[conv],
		tandem.Message{ID: fmt.Sprintf("m%d", n+1), ConversationID: conv, Role: tandem.RoleCustomer, Channel: in.Channel,
			Text: in.Text, Annotations: &ann, CreatedAt: in.ReceivedAt})
	for i, r := range turn.Replies {
		d := turn.Decision
		e.messages[conv] = append(e.messages[conv],
			tandem.Message{ID: fmt.Sprintf("m%d", n+2+i), ConversationID: conv, Role: tandem.RoleBot, Channel: in.Channel,
				Text: r.Text, Citations: r.Citations, Decision: &d, CreatedAt: in.ReceivedAt.Add(time.Second)})
	}
	return turn, nil
}

func (e *scriptedEngine) FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.conversations[id]
	if !ok {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no conversation %q", id)
	}
	cc := *c
	return &cc, nil
}

func (e *scriptedEngine) ListMessages(ctx context.Context, id string, f storage.MessageFilter) ([]tandem.Message, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []tandem.Message
	for _, m := range e.messages[id] {
		if !f.Since.IsZero() && m.CreatedAt.Before(f.Since) {
			continue
		}
		out = append(out, m)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}

// calls is how many messages reached the engine.
func (e *scriptedEngine) calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.received)
}

func (e *scriptedEngine) lastInbound() tandem.Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.received) == 0 {
		return tandem.Inbound{}
	}
	return e.received[len(e.received)-1]
}

// ensure the compiler checks the interfaces the tests rely on.
var (
	_ web.Engine        = (*scriptedEngine)(nil)
	_ web.Conversations = (*scriptedEngine)(nil)
	_ web.Pinger        = (*switchPinger)(nil)
	_ http.Handler      = (*web.Server)(nil)
)
