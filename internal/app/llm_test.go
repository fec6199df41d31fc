package app

import (
	"context"
	"testing"

	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/internal/llmtest"
)

func TestMergeLLM(t *testing.T) {
	t.Parallel()
	server := llmSettings{Provider: "openai", Model: "big", BaseURL: "https://llm.example.com/v1", APIKey: "sk-server"}
	env := map[string]string{"TANDEM_LLM_API_KEY_SUPPORT": "sk-support"}
	tests := []struct {
		name    string
		server  llmSettings
		bot     bots.LLMConfig
		want    llmSettings
		wantErr bool
	}{
		{name: "OK/other model on the server's endpoint keeps the server key", server: server,
			bot:  bots.LLMConfig{Provider: "openai", Model: "small"},
			want: llmSettings{Provider: "openai", Model: "small", BaseURL: "https://llm.example.com/v1", APIKey: "sk-server"}},
		{name: "OK/same endpoint with a trailing slash", server: server,
			bot:  bots.LLMConfig{Provider: "openai", BaseURL: "https://llm.example.com/v1/"},
			want: llmSettings{Provider: "openai", Model: "big", BaseURL: "https://llm.example.com/v1/", APIKey: "sk-server"}},
		{name: "OK/other endpoint gets no server key", server: server,
			bot:  bots.LLMConfig{Provider: "openai", BaseURL: "http://127.0.0.1:8080/v1"},
			want: llmSettings{Provider: "openai", Model: "big", BaseURL: "http://127.0.0.1:8080/v1"}},
		{name: "OK/named key", server: server,
			bot:  bots.LLMConfig{Provider: "openai", BaseURL: "https://other.example.com/v1", APIKeyEnv: "TANDEM_LLM_API_KEY_SUPPORT"},
			want: llmSettings{Provider: "openai", Model: "big", BaseURL: "https://other.example.com/v1", APIKey: "sk-support"}},
		{name: "OK/other provider takes nothing from the server", server: server,
			bot:  bots.LLMConfig{Provider: "ollama", Model: "llama3"},
			want: llmSettings{Provider: "ollama", Model: "llama3"}},
		{name: "OK/offline server", server: llmSettings{},
			bot:  bots.LLMConfig{Provider: "openai", Model: "m", BaseURL: "http://127.0.0.1:8080/v1"},
			want: llmSettings{Provider: "openai", Model: "m", BaseURL: "http://127.0.0.1:8080/v1"}},
		{name: "ErrNamedKeyUnset", server: server,
			bot: bots.LLMConfig{Provider: "openai", APIKeyEnv: "TANDEM_LLM_API_KEY_NOPE"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := mergeLLM(tt.server, &tt.bot, func(k string) string { return env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBotLLM(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, "pong")
	serverModel := srv.Model(t)
	getenv := func(string) string { return "" }
	tests := []struct {
		name      string
		server    llms.Model
		bot       *bots.LLMConfig
		wantModel llms.Model // compared when the bot has no llm: settings
		wantReply string     // what the built model answers; "" means no model
		wantErr   bool
	}{
		{name: "OK/server model shared", server: serverModel, wantModel: serverModel},
		{name: "OK/offline", wantModel: nil},
		{name: "OK/own model", server: serverModel, bot: &bots.LLMConfig{Provider: "openai", Model: "m", BaseURL: srv.BaseURL()}, wantReply: "pong"},
		{name: "ErrProvider", bot: &bots.LLMConfig{Provider: "skynet"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := botLLM(llmSettings{}, tt.server, getenv)(tt.bot)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if tt.bot == nil {
				if m != tt.wantModel {
					t.Errorf("model = %v, want %v", m, tt.wantModel)
				}
				return
			}
			out, err := llms.GenerateFromSinglePrompt(context.Background(), m, "ping")
			if err != nil || out != tt.wantReply {
				t.Errorf("reply = %q, %v; want %q", out, err, tt.wantReply)
			}
		})
	}
}
