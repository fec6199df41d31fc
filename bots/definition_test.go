package bots_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
)

// minimalBot returns a valid bot folder under "b"; tests override files.
func minimalBot(over map[string]string) fstest.MapFS {
	files := map[string]string{
		"b/bot.yaml":       "id: mini\nname: Mini\n",
		"b/intents.yaml":   "intents:\n  - name: greet\n    examples: [hi, hello]\n    response: greet\n  - name: track\n    examples: [where is my order]\n    flow: track\n",
		"b/responses.yaml": "responses:\n  greet:\n    - text: 'Hi{{if .Profile.name}} {{.Profile.name}}{{end}}!'\n      quick_replies: [Track]\n",
		"b/entities.yaml":  "patterns:\n  order_number: '\\bA\\d{6}\\b'\nlists:\n  size: {small: [s], large: [l]}\n",
		"b/flows/track.yaml": "name: track\nsteps:\n  - ask: order_number\n    type: order_number\n    prompt: Number?\n" +
			"  - say: ok\n    end: true\n",
		"b/knowledge/a.md": "---\nid: a\ntitle: A\n---\nText.\n",
	}
	for k, v := range over {
		if v == "" {
			delete(files, k)
			continue
		}
		files[k] = v
	}
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fsys
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		over map[string]string
		want string // substring of the error; empty means OK
	}{
		{"OK", nil, ""},
		{"OKLLM", map[string]string{"b/bot.yaml": "id: mini\npersona: Calm and brief.\nllm:\n  provider: openai\n  model: gpt-4o-mini\n" +
			"  base_url: http://127.0.0.1:8080/v1\n  api_key_env: TANDEM_LLM_API_KEY_SUPPORT\n"}, ""},
		{"OKNoOptionalFiles", map[string]string{"b/entities.yaml": "", "b/flows/track.yaml": "", "b/knowledge/a.md": "",
			"b/intents.yaml": "intents:\n  - name: greet\n    examples: [hi]\n"}, ""},
		{"ErrUnknownBotField", map[string]string{"b/bot.yaml": "id: mini\nnmae: Mini\n"}, "b/bot.yaml:2: nmae: unknown field"},
		{"ErrUnknownNestedField", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  queue: q\n  after_failed: 2\n"}, "b/bot.yaml:4: handoff.after_failed: unknown field"},
		{"ErrBadID", map[string]string{"b/bot.yaml": "id: Mini Bot\n"}, "b/bot.yaml:1: id"},
		{"ErrMissingBotYAML", map[string]string{"b/bot.yaml": ""}, "bot.yaml"},
		{"ErrUnknownResponse", map[string]string{"b/intents.yaml": "intents:\n  - name: greet\n    examples: [hi]\n    response: nope\n"},
			`b/intents.yaml:4: intents.greet.response: no response "nope"`},
		{"ErrUnknownFlow", map[string]string{"b/intents.yaml": "intents:\n  - name: greet\n    examples: [hi]\n    flow: nope\n"},
			`b/intents.yaml:4: intents.greet.flow: no flow "nope"`},
		{"ErrNoExamples", map[string]string{"b/intents.yaml": "intents:\n  - name: greet\n    examples: []\n"}, "intents.greet.examples"},
		{"ErrTwoTargets", map[string]string{"b/intents.yaml": "intents:\n  - name: greet\n    examples: [hi]\n    response: greet\n    handoff: true\n"}, "set only one"},
		{"ErrDuplicateIntent", map[string]string{"b/intents.yaml": "intents:\n  - name: greet\n    examples: [hi]\n  - name: greet\n    examples: [yo]\n"}, "b/intents.yaml:4: intents.greet: duplicate"},
		{"ErrBadTemplate", map[string]string{"b/responses.yaml": "responses:\n  greet:\n    - text: '{{.Slots.x'\n"}, "b/responses.yaml:2: responses.greet[0].text"},
		{"ErrBadPattern", map[string]string{"b/entities.yaml": "patterns:\n  order_number: '(['\n"}, "b/entities.yaml:2: patterns.order_number"},
		{"ErrFlowSlotType", map[string]string{"b/flows/track.yaml": "name: track\nsteps:\n  - ask: x\n    type: list:colour\n    prompt: p\n"}, "b/flows/track.yaml:4: type"},
		{"OKEscalation", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  escalate_after: 0\n  escalate_below: -0.9\n"}, ""},
		{"ErrEscalateAfter", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  queue: q\n  escalate_after: soon\n"},
			`b/bot.yaml:4: handoff.escalate_after: must be a duration such as 10m (0 disables), got "soon"`},
		{"ErrEscalateAfterNegative", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  escalate_after: -5m\n"}, "b/bot.yaml:3: handoff.escalate_after"},
		{"ErrEscalateBelow", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  escalate_below: 0.5\n"},
			"b/bot.yaml:3: handoff.escalate_below: must be in [-1, 0] (0 disables), got 0.5"},
		{"ErrFlowTimeout", map[string]string{"b/bot.yaml": "id: mini\nflow_timeout: forever\n"}, "b/bot.yaml:2: flow_timeout"},
		{"ErrQuietHours", map[string]string{"b/bot.yaml": "id: mini\noutbound:\n  quiet_hours: night\n"}, "b/bot.yaml:3: outbound.quiet_hours"},
		{"ErrLLMProvider", map[string]string{"b/bot.yaml": "id: mini\nllm:\n  provider: skynet\n"}, "b/bot.yaml:3: llm.provider"},
		{"ErrLLMProviderTypo", map[string]string{"b/bot.yaml": "id: mini\npersona: Calm.\nllm:\n  provider: opnai\n  model: m\n"}, `b/bot.yaml:4: llm.provider: must be openai or ollama, got "opnai"`},
		{"ErrLLMUnknownField", map[string]string{"b/bot.yaml": "id: mini\nllm:\n  provider: openai\n  api_key: sk-secret\n"}, "b/bot.yaml:4: llm.api_key: unknown field"},
		{"ErrLLMBaseURL", map[string]string{"b/bot.yaml": "id: mini\nllm:\n  provider: openai\n  base_url: localhost:8080\n"}, "b/bot.yaml:4: llm.base_url"},
		{"ErrLLMAPIKeyEnv", map[string]string{"b/bot.yaml": "id: mini\nllm:\n  provider: openai\n  api_key_env: TANDEM_DATABASE_URL\n"}, "b/bot.yaml:4: llm.api_key_env"},
		{"ErrLLMAPIKeyEnvLower", map[string]string{"b/bot.yaml": "id: mini\nllm:\n  provider: openai\n  api_key_env: tandem_llm_api_key_x\n"}, "b/bot.yaml:4: llm.api_key_env"},
		{"ErrYAMLSyntax", map[string]string{"b/bot.yaml": "id: [mini\n"}, "b/bot.yaml"},
		{"ErrCSATWindow", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  csat:\n    window: -1h\n"}, "b/bot.yaml:4: handoff.csat.window: must be positive"},
		{"ErrCSATWindowSyntax", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  csat:\n    window: a day\n"}, "b/bot.yaml:4"},
		{"ErrCSATUnknownField", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  csat:\n    enable: true\n"}, "b/bot.yaml:4: handoff.csat.enable: unknown field"},
		{"ErrCSATQuestionTooLong", map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n  csat:\n    question: " + strings.Repeat("x", 5000) + "\n"}, "handoff.csat.question: is 5000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def, err := bots.Load(minimalBot(tt.over), "b")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if def.ID != "mini" || def.FlowTimeout == 0 || len(def.Knowledge.Collections) != 1 {
					t.Fatalf("def = %+v", def)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadEscalation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handoff   string
		wantAfter time.Duration
		wantBelow float64
	}{
		{"Defaults", "  queue: q\n", bots.DefaultEscalateAfter, bots.DefaultEscalateBelow},
		{"Set", "  escalate_after: 90s\n  escalate_below: -0.9\n", 90 * time.Second, -0.9},
		{"Disabled", "  escalate_after: 0\n  escalate_below: 0\n", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def, err := bots.Load(minimalBot(map[string]string{"b/bot.yaml": "id: mini\nhandoff:\n" + tt.handoff}), "b")
			if err != nil {
				t.Fatal(err)
			}
			if got := def.Handoff; got.EscalateAfter != tt.wantAfter || got.EscalateBelow != tt.wantBelow {
				t.Errorf("escalate_after, escalate_below = %s, %g; want %s, %g", got.EscalateAfter, got.EscalateBelow, tt.wantAfter, tt.wantBelow)
			}
		})
	}
}

func TestLoadReportsAllProblems(t *testing.T) {
	t.Parallel()
	_, err := bots.Load(minimalBot(map[string]string{
		"b/bot.yaml":     "id: mini\nbogus: 1\n",
		"b/intents.yaml": "intents:\n  - name: greet\n    examples: [hi]\n    response: nope\n",
	}), "b")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"bogus", `no response "nope"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}

func TestLoadDemo(t *testing.T) {
	t.Parallel()
	def, err := bots.Load(demo.FS, demo.Root)
	if err != nil {
		t.Fatal(err)
	}
	if def.ID != "demo" || len(def.Flows) == 0 || def.KnowledgeFS == nil {
		t.Fatalf("demo = %s flows=%d", def.ID, len(def.Flows))
	}
}

func TestLoadLLM(t *testing.T) {
	t.Parallel()
	def, err := bots.Load(minimalBot(map[string]string{"b/bot.yaml": "id: mini\npersona: Calm and brief.\nllm:\n  provider: ollama\n  model: llama3\n" +
		"  base_url: http://127.0.0.1:11434\n  api_key_env: TANDEM_LLM_API_KEY_MINI\n"}), "b")
	if err != nil {
		t.Fatal(err)
	}
	want := bots.LLMConfig{Provider: "ollama", Model: "llama3", BaseURL: "http://127.0.0.1:11434", APIKeyEnv: "TANDEM_LLM_API_KEY_MINI"}
	if def.Persona != "Calm and brief." || def.LLM == nil || *def.LLM != want {
		t.Errorf("persona = %q, llm = %+v; want %+v", def.Persona, def.LLM, want)
	}
}

func TestCSATConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		question string // what the registry's Survey returns
		thanks   string
		window   time.Duration
	}{
		{"OKDefaults", "id: mini\n", bots.DefaultCSATQuestion, bots.DefaultCSATThanks, bots.DefaultCSATWindow},
		{"OKCustom", "id: mini\nhandoff:\n  csat: {question: 'Rate us 1-5', thanks: 'Merci!', window: 2h}\n", "Rate us 1-5", "Merci!", 2 * time.Hour},
		{"OKDisabled", "id: mini\nhandoff:\n  csat: {enabled: false}\n", "", bots.DefaultCSATThanks, bots.DefaultCSATWindow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// Not sharedNLU: it keeps the first bot it trains for, the demo bot.
			reg := bots.NewRegistry(bots.RegistryConfig{NLU: func(ctx context.Context, def *bots.Definition, _ llms.Model) (bots.Analyzer, error) {
				return bots.OfflineNLU(ctx, def, nil)
			}})
			if _, err := reg.LoadFS(ctx, minimalBot(map[string]string{"b/bot.yaml": tt.yaml, "b/knowledge/a.md": ""}), "b"); err != nil {
				t.Fatal(err)
			}
			b, _ := reg.Get("mini")
			c := b.Def.Handoff.CSAT
			if got := reg.Survey("mini"); got != tt.question || c.Thanks != tt.thanks || c.Window != tt.window {
				t.Errorf("survey %q, thanks %q, window %s; want %q, %q, %s", got, c.Thanks, c.Window, tt.question, tt.thanks, tt.window)
			}
			if got := reg.Survey("nobody"); got != "" {
				t.Errorf("unknown bot's survey = %q", got)
			}
		})
	}
}
