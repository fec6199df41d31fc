package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/llmtest"
)

func TestChat(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader("hi\nhow long does shipping take?\nI want to talk to a human\nhello?\n/quit\n"),
		Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := Main(context.Background(), env, []string{"chat", "--bot", "demo"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"intent greet", "decision knowledge", "source [1]", "decision handoff", "handoff ticket", "decision relay", "sentiment"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestChatLLM: with TANDEM_LLM_* set, the terminal chat answers through the model, as the
// server would.
func TestChatLLM(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, "Standard shipping takes 3–5 business days [1].")
	vars := map[string]string{"TANDEM_LLM_PROVIDER": "openai", "TANDEM_LLM_BASE_URL": srv.BaseURL()}
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader("how long does shipping take?\n/quit\n"),
		Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	if code := Main(context.Background(), env, []string{"chat", "--bot", "demo", "--quiet"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if len(srv.Requests()) == 0 {
		t.Fatal("the model was never asked")
	}
	if want := "bot> Standard shipping takes 3–5 business days.\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks the generated answer %q:\n%s", want, out.String())
	}
}

func TestChatUnknownBot(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := Main(context.Background(), env, []string{"chat", "--bot", "nope"}); code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, errb.String())
	}
}

func TestBotsValidate(t *testing.T) {
	t.Parallel()
	good := t.TempDir()
	write := func(dir, name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good, "a/bot.yaml", "id: a\n")
	write(good, "a/intents.yaml", "intents:\n  - name: hi\n    examples: [hello]\n")
	bad := t.TempDir()
	write(bad, "bot.yaml", "id: b\ncolour: red\n")
	write(bad, "intents.yaml", "intents:\n  - name: hi\n    examples: [hello]\n    response: missing\n")
	typo := t.TempDir()
	write(typo, "bot.yaml", "id: c\npersona: Calm.\nllm:\n  provider: opneai\n  model: small\n")
	write(typo, "intents.yaml", "intents:\n  - name: hi\n    examples: [hello]\n")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"OK", []string{"bots", "validate", good}, 0, []string{"ok ", "bot a"}},
		{"OKDemo", []string{"bots", "validate", filepath.Join("..", "..", "bots", "demo", "bot")}, 0, []string{"bot demo"}},
		{"ErrInvalid", []string{"bots", "validate", bad}, 1, []string{"FAIL", "bot.yaml:2: colour: unknown field", `intents.yaml:4: intents.hi.response: no response "missing"`}},
		{"ErrLLMProviderTypo", []string{"bots", "validate", typo}, 1, []string{"FAIL", `bot.yaml:4: llm.provider: must be openai or ollama, got "opneai"`}},
		{"ErrNoFolder", []string{"bots", "validate"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			if code := Main(context.Background(), env, tt.args); code != tt.code {
				t.Fatalf("exit %d, want %d: %s %s", code, tt.code, out.String(), errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
