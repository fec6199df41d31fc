package bots_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/internal/llmtest"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// TestRegistryLLM checks which model a loaded bot keeps: the one its llm: settings build,
// the server's when it has none, none when the registry has no LLM function.
func TestRegistryLLM(t *testing.T) {
	t.Parallel()
	server, own := llmtest.New(t, "").Model(t), llmtest.New(t, "").Model(t)
	withLLM := "id: mini\nllm:\n  provider: openai\n  model: small\n"
	tests := []struct {
		name    string
		botYAML string
		noFunc  bool // RegistryConfig.LLM left nil
		fail    bool // the LLM function fails
		want    llms.Model
		wantCfg *bots.LLMConfig // what the LLM function was asked for
	}{
		{name: "OK/own model", botYAML: withLLM, want: own, wantCfg: &bots.LLMConfig{Provider: "openai", Model: "small"}},
		{name: "OK/server model", botYAML: "id: mini\n", want: server},
		{name: "OK/offline", botYAML: withLLM, noFunc: true},
		{name: "ErrLLM", botYAML: withLLM, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls []*bots.LLMConfig
			var nluModel llms.Model
			cfg := bots.RegistryConfig{NLU: func(ctx context.Context, def *bots.Definition, m llms.Model) (bots.Analyzer, error) {
				nluModel = m
				return bots.OfflineNLU(ctx, def, nil)
			}}
			if !tt.noFunc {
				cfg.LLM = func(c *bots.LLMConfig) (llms.Model, error) {
					calls = append(calls, c)
					switch {
					case tt.fail:
						return nil, errors.New("no such model")
					case c == nil:
						return server, nil
					}
					return own, nil
				}
			}
			reg := bots.NewRegistry(cfg)
			fsys := minimalBot(map[string]string{"b/bot.yaml": tt.botYAML})
			b, err := reg.LoadFS(context.Background(), fsys, "b")
			if tt.fail {
				if err == nil || !strings.Contains(err.Error(), "llm: no such model") {
					t.Fatalf("err = %v, want the LLM error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.LLM != tt.want || nluModel != tt.want {
				t.Errorf("bot model = %v, NLU model = %v; want %v", b.LLM, nluModel, tt.want)
			}
			if tt.noFunc {
				return
			}
			if len(calls) != 1 {
				t.Fatalf("LLM function called %d times per load, want 1", len(calls))
			}
			if (calls[0] == nil) != (tt.wantCfg == nil) || (calls[0] != nil && *calls[0] != *tt.wantCfg) {
				t.Errorf("LLM function asked for %+v, want %+v", calls[0], tt.wantCfg)
			}
			if err := reg.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(calls) != 2 {
				t.Errorf("LLM function called %d times after a reload, want 2", len(calls))
			}
		})
	}
}

// questionRecorder keeps the questions the engine asks the knowledge base.
type questionRecorder struct {
	bots.Answerer
	mu sync.Mutex
	qs []bots.Question
}

func (r *questionRecorder) Answer(ctx context.Context, q bots.Question) (*bots.KnowledgeAnswer, error) {
	r.mu.Lock()
	r.qs = append(r.qs, q)
	r.mu.Unlock()
	return r.Answerer.Answer(ctx, q)
}

// TestEngineAnswersWithBotLLM checks that a knowledge question goes to the knowledge base
// with the bot's model and persona, and that the customer gets the model's grounded answer
// (or the extractive one when the bot is offline).
func TestEngineAnswersWithBotLLM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		offline  bool
		wantText string
	}{
		{"OK/bot model", false, "Standard shipping takes 3 to 5 business days."},
		{"OK/offline", true, "business days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := llmtest.New(t, "Standard shipping takes 3 to 5 business days [1].")
			var model llms.Model
			if !tt.offline {
				model = srv.Model(t)
			}
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			kb := bots.KnowledgeBase{KB: retrieval.New(st, nil)}
			reg := bots.NewRegistry(bots.RegistryConfig{NLU: sharedNLU, Knowledge: kb,
				LLM: func(*bots.LLMConfig) (llms.Model, error) { return model, nil }})
			bot, err := reg.LoadFS(ctx, demo.FS, demo.Root)
			if err != nil {
				t.Fatal(err)
			}
			rec := &questionRecorder{Answerer: kb}
			e := bots.New(st, reg, bots.WithKnowledge(rec))
			turn, err := e.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelWebChat, ExternalID: "v", Text: "how long does shipping take?"})
			if err != nil {
				t.Fatal(err)
			}
			if turn.Decision.Kind != tandem.DecisionKnowledge || len(turn.Replies) == 0 || !strings.Contains(turn.Replies[0].Text, tt.wantText) {
				t.Fatalf("turn = %+v, want a knowledge answer with %q", turn, tt.wantText)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.qs) != 1 || rec.qs[0].LLM != model || rec.qs[0].Persona != bot.Def.Persona {
				t.Fatalf("questions = %+v, want one with the bot's model and persona", rec.qs)
			}
			msgs := srv.Messages()
			if tt.offline {
				if len(msgs) != 0 {
					t.Errorf("offline bot called the LLM %d times", len(msgs))
				}
				return
			}
			if len(msgs) != 1 || !strings.Contains(msgs[0][0].Content, "<persona>\n"+bot.Def.Persona) {
				t.Errorf("LLM requests = %+v, want one with the demo persona", msgs)
			}
		})
	}
}

// TestOfflineNLUFallback checks that with a model, a message the classifier is unsure of is
// decided by the model, and that a failing model leaves the offline answer.
func TestOfflineNLUFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	def, err := bots.Load(minimalBot(map[string]string{
		"b/intents.yaml": "intents:\n" +
			"  - name: track\n    examples: [where is my order, track my order, order status, has my order shipped]\n" +
			"  - name: cancel\n    examples: [cancel my order, stop my order, I want to cancel, cancel the purchase]\n" +
			"  - name: greet\n    examples: [hi, hello, good morning]\n",
		"b/flows/track.yaml": "",
	}), "b")
	if err != nil {
		t.Fatal(err)
	}
	offline, err := bots.OfflineNLU(ctx, def, nil)
	if err != nil {
		t.Fatal(err)
	}
	const unsure = "where is the cancel"
	base := offline.Analyze(ctx, unsure)
	if len(base.Intents) < 2 || base.Intents[0].Confidence-base.Intents[1].Confidence >= 0.15 {
		t.Fatalf("%q is not a low-margin message offline: %+v", unsure, base.Intents)
	}
	runnerUp := base.Intents[1].Name
	tests := []struct {
		name   string
		status int // the LLM server's status; 0 answers
		text   string
		want   string
		calls  int
	}{
		{"OK/unsure decided by the LLM", 0, unsure, runnerUp, 1},
		{"OK/sure not asked", 0, "hello", "greet", 0},
		{"ErrLLM keeps offline", http.StatusInternalServerError, unsure, base.Intent.Name, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := llmtest.New(t, runnerUp)
			srv.Fail(tt.status)
			an, err := bots.OfflineNLU(ctx, def, srv.Model(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := an.Analyze(ctx, tt.text).Intent.Name; got != tt.want {
				t.Errorf("intent of %q = %s, want %s", tt.text, got, tt.want)
			}
			msgs := srv.Messages()
			if len(msgs) != tt.calls {
				t.Fatalf("LLM calls = %d, want %d", len(msgs), tt.calls)
			}
			if tt.calls > 0 && !strings.Contains(msgs[0][0].Content, `"stop my order"`) {
				t.Errorf("prompt lacks the intents' examples: %s", msgs[0][0].Content)
			}
		})
	}
}
