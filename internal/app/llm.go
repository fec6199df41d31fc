package app

import (
	"fmt"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/internal/config"
)

// llmSettings are the merged settings of one language model.
type llmSettings struct {
	Provider, Model, BaseURL, APIKey string
}

// Models returns the server's language model (nil when offline) and how the bot registry
// gets each bot's: a bot's llm: settings laid over the server's.
func Models(cfg config.Config, getenv func(string) string) (llms.Model, bots.LLMFunc, error) {
	server, err := newLLM(serverLLM(cfg))
	if err != nil {
		return nil, nil, err
	}
	return server, botLLM(serverLLM(cfg), server, getenv), nil
}

// serverLLM is the server's own model settings (TANDEM_LLM_*).
func serverLLM(cfg config.Config) llmSettings {
	return llmSettings{Provider: cfg.LLM.Provider, Model: cfg.LLM.Model, BaseURL: cfg.LLM.BaseURL, APIKey: cfg.LLMAPIKey}
}

// botLLM returns how the registry gets each bot's model: a bot without llm: shares the
// server's (nil when the server has none), a bot with one gets its own, built from its
// settings over the server's.
func botLLM(server llmSettings, serverModel llms.Model, getenv func(string) string) bots.LLMFunc {
	return func(c *bots.LLMConfig) (llms.Model, error) {
		if c == nil {
			return serverModel, nil
		}
		s, err := mergeLLM(server, c, getenv)
		if err != nil {
			return nil, err
		}
		return newLLM(s)
	}
}

// mergeLLM lays a bot's llm: settings over the server's. The server's model and base URL
// apply only to a bot of the same provider. The server's API key goes only to the server's
// own endpoint: a bot file that points elsewhere must name its key (llm.api_key_env), so
// editing a bot cannot send the server's key to another host.
func mergeLLM(server llmSettings, c *bots.LLMConfig, getenv func(string) string) (llmSettings, error) {
	s := llmSettings{Provider: c.Provider}
	same := c.Provider == server.Provider
	if same {
		s.Model, s.BaseURL = server.Model, server.BaseURL
	}
	if c.Model != "" {
		s.Model = c.Model
	}
	if c.BaseURL != "" {
		s.BaseURL = c.BaseURL
	}
	switch {
	case c.APIKeyEnv != "":
		if s.APIKey = getenv(c.APIKeyEnv); s.APIKey == "" {
			return llmSettings{}, fmt.Errorf("llm.api_key_env: %s is not set", c.APIKeyEnv)
		}
	case same && strings.TrimRight(s.BaseURL, "/") == strings.TrimRight(server.BaseURL, "/"):
		s.APIKey = server.APIKey
	}
	return s, nil
}

// newLLM returns the language model s describes, or nil when it names no provider (offline).
func newLLM(s llmSettings) (llms.Model, error) {
	switch s.Provider {
	case "":
		return nil, nil
	case "openai":
		opts := []openai.Option{openai.WithToken(s.APIKey)}
		if s.APIKey == "" {
			opts[0] = openai.WithToken("none") // local OpenAI-compatible servers need no key
		}
		if s.Model != "" {
			opts = append(opts, openai.WithModel(s.Model))
		}
		if s.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(s.BaseURL))
		}
		m, err := openai.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("openai llm: %w", err)
		}
		return m, nil
	case "ollama":
		opts := []ollama.Option{}
		if s.Model != "" {
			opts = append(opts, ollama.WithModel(s.Model))
		}
		if s.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(s.BaseURL))
		}
		m, err := ollama.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("ollama llm: %w", err)
		}
		return m, nil
	default:
		return nil, fmt.Errorf("llm provider %q is not openai or ollama", s.Provider)
	}
}
