package app

import (
	"fmt"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/tandemhq/tandem/internal/config"
)

// newLLM returns the configured language model, or nil when none is configured (offline).
func newLLM(cfg config.Config) (llms.Model, error) {
	switch cfg.LLM.Provider {
	case "":
		return nil, nil
	case "openai":
		opts := []openai.Option{openai.WithToken(cfg.LLMAPIKey)}
		if cfg.LLMAPIKey == "" {
			opts[0] = openai.WithToken("none") // local OpenAI-compatible servers need no key
		}
		if cfg.LLM.Model != "" {
			opts = append(opts, openai.WithModel(cfg.LLM.Model))
		}
		if cfg.LLM.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(cfg.LLM.BaseURL))
		}
		m, err := openai.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("openai llm: %w", err)
		}
		return m, nil
	case "ollama":
		opts := []ollama.Option{}
		if cfg.LLM.Model != "" {
			opts = append(opts, ollama.WithModel(cfg.LLM.Model))
		}
		if cfg.LLM.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(cfg.LLM.BaseURL))
		}
		m, err := ollama.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("ollama llm: %w", err)
		}
		return m, nil
	default:
		return nil, fmt.Errorf("llm provider %q is not openai or ollama", cfg.LLM.Provider)
	}
}
