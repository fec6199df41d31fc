package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/llmtest"
)

// writeShopBot writes a small bot folder with a shipping article under root/id; llm is its
// bot.yaml llm: block ("" for none).
func writeShopBot(t *testing.T, root, id, persona, llm string) {
	t.Helper()
	files := map[string]string{
		"bot.yaml":              "id: " + id + "\npersona: " + persona + "\n" + llm,
		"intents.yaml":          "intents:\n  - name: greet\n    examples: [hi, hello]\n    response: greet\n  - name: shipping\n    examples: [how long does shipping take, when will my parcel arrive]\n    knowledge: true\n",
		"responses.yaml":        "responses:\n  greet:\n    - text: Hi!\n",
		"knowledge/shipping.md": "---\nid: shipping\ntitle: Shipping times\n---\nStandard shipping takes 3 to 5 business days. Express shipping arrives the next business day.\n",
	}
	for name, body := range files {
		p := filepath.Join(root, id, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBotOwnLLM runs the real application with a server-wide LLM and two bots: one without
// llm: settings answers with the server's model, one with them with its own, each in its own
// persona.
func TestBotOwnLLM(t *testing.T) {
	t.Parallel()
	serverLLM := llmtest.New(t, "Standard shipping takes 3 to 5 business days [1].")
	botLLM := llmtest.New(t, "Express shipping arrives the next business day [1].")
	root := t.TempDir()
	writeShopBot(t, root, "plain", "Plain Pat.", "")
	writeShopBot(t, root, "own", "Owl Olive.", "llm:\n  provider: openai\n  model: own-model\n  base_url: "+botLLM.BaseURL()+"\n")
	base := start(t, "", func(c *config.Config) {
		c.Demo = false
		c.StaffAuth = config.StaffAuthOpen // no staff pages here; accounts would need a session secret
		c.BotsDir = root
		c.LLM = config.LLM{Provider: "openai", Model: "server-model", BaseURL: serverLLM.BaseURL()}
	})
	tests := []struct {
		bot, want, persona string
		srv                *llmtest.Server
	}{
		{"plain", "3 to 5 business days", "Plain Pat.", serverLLM},
		{"own", "next business day", "Owl Olive.", botLLM},
	}
	for _, tt := range tests {
		t.Run("OK/"+tt.bot, func(t *testing.T) {
			code, body := post(t, base+"/api/v1/bots/"+tt.bot+"/messages", `{"user":"u1","text":"How long does shipping take?"}`)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var turn turnJSON
			if err := json.Unmarshal(body, &turn); err != nil {
				t.Fatal(err)
			}
			if len(turn.Replies) == 0 || !strings.Contains(turn.Replies[0].Text, tt.want) {
				t.Fatalf("reply = %s, want %q", body, tt.want)
			}
			msgs := tt.srv.Messages()
			if len(msgs) == 0 {
				t.Fatal("the bot's LLM was not asked")
			}
			last := msgs[len(msgs)-1]
			if !strings.Contains(last[0].Content, "<persona>\n"+tt.persona+"\n</persona>") {
				t.Errorf("system prompt lacks the bot's persona: %s", last[0].Content)
			}
		})
		// The editor's "try a question" on the bot's collection answers as the bot does.
		t.Run("OK/try/"+tt.bot, func(t *testing.T) {
			asked := len(tt.srv.Requests())
			res, err := http.Get(base + "/kb/try?q=How+long+does+shipping+take%3F&collection=" + tt.bot)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), tt.want) {
				t.Fatalf("status %d, page lacks %q:\n%s", res.StatusCode, tt.want, body)
			}
			if len(tt.srv.Requests()) == asked {
				t.Error("the bot's LLM was not asked for the editor's preview")
			}
		})
	}
}
