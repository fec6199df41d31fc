package bots_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/flows"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// codeRecorder is an in-process Notifier that keeps the codes it was asked to send.
type codeRecorder struct {
	mu    sync.Mutex
	codes map[string]string // address -> last code
}

func (r *codeRecorder) SendCode(ctx context.Context, _ string, ch tandem.Channel, addr, code string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.codes == nil {
		r.codes = map[string]string{}
	}
	r.codes[string(ch)+":"+addr] = code
	return nil
}

func (r *codeRecorder) last(ch tandem.Channel, addr string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.codes[string(ch)+":"+addr]
}

// fixture is a demo-bot engine over a fresh SQLite store.
type fixture struct {
	engine   *bots.Engine
	store    storage.Store
	notifier *codeRecorder
	clock    *clock
	actions  *actionLog
}

// actionLog records the idempotency keys of the demo actions' requests.
type actionLog struct {
	mu   sync.Mutex
	keys []string
}

func (l *actionLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.keys = append(l.keys, r.Header.Get(flows.IdempotencyKeyHeader))
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *actionLog) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.keys)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	demoOnce sync.Once
	demoBot  *bots.Definition
	demoNLU  bots.Analyzer
	demoErr  error
)

// sharedNLU trains the demo bot's NLU once per test binary: training is deterministic and
// the model is read-only.
func sharedNLU(ctx context.Context, def *bots.Definition, _ llms.Model) (bots.Analyzer, error) {
	demoOnce.Do(func() { demoNLU, demoErr = bots.OfflineNLU(ctx, def, nil) })
	return demoNLU, demoErr
}

func setup(t testing.TB, kbOpts ...retrieval.Option) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return setupStore(t, st, kbOpts...)
}

func setupStore(t testing.TB, st storage.Store, kbOpts ...retrieval.Option) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)}
	log := &actionLog{}
	actions := httptest.NewServer(log.wrap(demo.ActionsHandler("s3cret")))
	t.Cleanup(actions.Close)
	kb := bots.KnowledgeBase{KB: retrieval.New(st, nil, kbOpts...)}
	reg := bots.NewRegistry(bots.RegistryConfig{NLU: sharedNLU, Knowledge: kb,
		Getenv: func(k string) string {
			if k == "TANDEM_ACTION_SECRET_DEMO" {
				return "s3cret"
			}
			return ""
		}})
	if _, err := reg.LoadFS(ctx, demo.FS, demo.Root); err != nil {
		t.Fatal(err)
	}
	rec := &codeRecorder{}
	e := bots.New(st, reg, bots.WithKnowledge(kb), bots.WithNow(clk.Now), bots.WithBaseURL(actions.URL),
		bots.WithNotifier(rec), bots.WithLinkSecret([]byte("link-secret")))
	return &fixture{engine: e, store: st, notifier: rec, clock: clk, actions: log}
}

func (f *fixture) say(t testing.TB, ch tandem.Channel, who, text string) *tandem.Turn {
	t.Helper()
	turn, err := f.engine.HandleMessage(context.Background(), tandem.Inbound{BotID: "demo", Channel: ch, ExternalID: who, Text: text})
	if err != nil {
		t.Fatalf("HandleMessage(%q): %v", text, err)
	}
	return turn
}

type step struct {
	text     string
	kind     tandem.DecisionKind
	intent   string // decision intent, when set
	contains string // in the joined replies
	cited    bool
}

func joined(turn *tandem.Turn) string {
	var b strings.Builder
	for _, r := range turn.Replies {
		b.WriteString(r.Text)
		b.WriteString("\n")
	}
	return b.String()
}

func TestHandleMessageConversations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"OKGreet", []step{{text: "hi", kind: tandem.DecisionIntent, intent: "greet"}}},
		{"OKOrderStatusFlow", []step{
			{text: "where is my order?", kind: tandem.DecisionIntent, contains: "order number"},
			{text: "A100001", kind: tandem.DecisionFlow, contains: "1Z999AA10123456784"},
		}},
		{"OKKnowledge", []step{{text: "how long does shipping take?", kind: tandem.DecisionKnowledge, contains: "business days", cited: true}}},
		{"OKMidFlowQuestionResumes", []step{
			{text: "I want to return something", kind: tandem.DecisionIntent},
			{text: "A100002", kind: tandem.DecisionFlow, contains: "Why are you returning"},
			{text: "what is your refund policy?", kind: tandem.DecisionKnowledge, contains: "Why are you returning", cited: true},
			{text: "Damaged", kind: tandem.DecisionFlow, contains: "A100002"},
		}},
		{"OKCancelFlow", []step{
			{text: "I want to return something", kind: tandem.DecisionIntent},
			{text: "cancel", kind: tandem.DecisionFlow},
			{text: "how long does shipping take?", kind: tandem.DecisionKnowledge},
		}},
		{"OKAskForHuman", []step{
			{text: "I want to talk to a human", kind: tandem.DecisionHandoff},
			{text: "hello? anyone?", kind: tandem.DecisionRelay},
		}},
		{"OKOfferAcceptedHandsOff", []step{
			{text: "xyzzy plugh", kind: tandem.DecisionFallback},
			{text: "blorp zzz qux", kind: tandem.DecisionFallback},
			{text: "yes", kind: tandem.DecisionHandoff},
		}},
		{"OKOfferDeclined", []step{
			{text: "xyzzy plugh", kind: tandem.DecisionFallback},
			{text: "blorp zzz qux", kind: tandem.DecisionFallback},
			{text: "no thanks", kind: tandem.DecisionFallback},
			{text: "how long does shipping take?", kind: tandem.DecisionKnowledge},
		}},
		{"OKFlowFailsAfterMaxAttempts", []step{
			{text: "where is my order?", kind: tandem.DecisionIntent},
			{text: "hmm not sure", kind: tandem.DecisionFlow, contains: "A followed by 6 digits"},
			{text: "dunno", kind: tandem.DecisionFlow},
			{text: "no idea", kind: tandem.DecisionFallback},
		}},
		{"OKFallbackThenHandoff", []step{
			{text: "xyzzy plugh", kind: tandem.DecisionFallback},
			{text: "blorp zzz qux", kind: tandem.DecisionFallback},
			{text: "frobnicate wibble", kind: tandem.DecisionHandoff},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			for i, s := range tt.steps {
				turn := f.say(t, tandem.ChannelWebChat, "visitor-"+tt.name, s.text)
				if got := turn.Decision.Kind; got != s.kind {
					t.Fatalf("step %d %q: decision = %s (%s), want %s", i, s.text, got, turn.Decision.Reason, s.kind)
				}
				if turn.Decision.Reason == "" {
					t.Errorf("step %d: decision without a reason", i)
				}
				if s.intent != "" && turn.Decision.Intent != s.intent {
					t.Errorf("step %d: intent = %q, want %q", i, turn.Decision.Intent, s.intent)
				}
				if s.contains != "" && !strings.Contains(joined(turn), s.contains) {
					t.Errorf("step %d %q: replies %q do not contain %q", i, s.text, joined(turn), s.contains)
				}
				if s.cited && (len(turn.Replies) == 0 || len(turn.Replies[0].Citations) == 0) {
					t.Errorf("step %d: no citations", i)
				}
			}
		})
	}
}

// hangingUp is a knowledge base during whose search the customer's request is cancelled
// (the client went away).
type hangingUp struct{ cancel context.CancelFunc }

func (h hangingUp) Answer(context.Context, bots.Question) (*bots.KnowledgeAnswer, error) {
	h.cancel()
	return nil, context.Canceled
}

// TestFailedTurnKeepsMessage checks that a customer message without a provider id, which is
// stored in the turn's own commit, is still stored when the turn fails midway.
func TestFailedTurnKeepsMessage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	e := bots.New(f.store, f.engine.Bots(), bots.WithKnowledge(hangingUp{cancel}))
	_, err := e.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST, ExternalID: "gone",
		Text: "what is the meaning of life"})
	if err == nil {
		t.Fatal("the turn succeeded although its request was cancelled")
	}
	bg := context.Background()
	cust, _, err := f.store.ResolveIdentity(bg, tandem.ChannelREST, "gone")
	if err != nil {
		t.Fatal(err)
	}
	conv, err := f.store.FindOpenConversation(bg, "demo", cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.store.ListMessages(bg, conv.ID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Text != "what is the meaning of life" || msgs[0].Annotations == nil {
		t.Errorf("messages after a failed turn = %+v", msgs)
	}
}
