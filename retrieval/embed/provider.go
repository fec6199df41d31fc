package embed

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// ProviderConfig chooses an embedder. The zero value is the offline hashing embedder.
type ProviderConfig struct {
	// Provider is "hashing" (default, offline), "openai" (any OpenAI-compatible endpoint)
	// or "ollama".
	Provider string
	// BaseURL of the provider's API (e.g. https://api.openai.com/v1, http://localhost:11434).
	BaseURL string
	// Model is the embedding model name.
	Model string
	// APIKey authenticates with OpenAI-compatible endpoints.
	APIKey string
	// Dimension of the offline embedder (or requested from OpenAI models that support it).
	Dimension int
	// HTTPClient for outbound calls; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// NewProvider returns the configured embedder and the name to record on collections.
func NewProvider(cfg ProviderConfig) (embeddings.Embedder, string, error) {
	switch strings.ToLower(cfg.Provider) {
	case "", "hashing", "offline":
		c := DefaultConfig()
		if cfg.Dimension != 0 {
			c.Dimension = cfg.Dimension
		}
		h, err := New(c, nil)
		if err != nil {
			return nil, "", err
		}
		return h, h.Name(), nil
	case "openai":
		if cfg.Model == "" {
			cfg.Model = "text-embedding-3-small"
		}
		opts := []openai.Option{openai.WithEmbeddingModel(cfg.Model), openai.WithToken(firstSet(cfg.APIKey, "none"))}
		if cfg.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(cfg.BaseURL))
		}
		if cfg.HTTPClient != nil {
			opts = append(opts, openai.WithHTTPClient(cfg.HTTPClient))
		}
		if cfg.Dimension != 0 {
			opts = append(opts, openai.WithEmbeddingDimensions(cfg.Dimension))
		}
		llm, err := openai.New(opts...)
		if err != nil {
			return nil, "", fmt.Errorf("openai embedder: %w", err)
		}
		e, err := embeddings.NewEmbedder(llm)
		if err != nil {
			return nil, "", fmt.Errorf("openai embedder: %w", err)
		}
		return e, "openai:" + cfg.Model, nil
	case "ollama":
		if cfg.Model == "" {
			cfg.Model = "nomic-embed-text"
		}
		opts := []ollama.Option{ollama.WithModel(cfg.Model)}
		if cfg.BaseURL != "" {
			opts = append(opts, ollama.WithServerURL(cfg.BaseURL))
		}
		if cfg.HTTPClient != nil {
			opts = append(opts, ollama.WithHTTPClient(cfg.HTTPClient))
		}
		llm, err := ollama.New(opts...)
		if err != nil {
			return nil, "", fmt.Errorf("ollama embedder: %w", err)
		}
		e, err := embeddings.NewEmbedder(llm)
		if err != nil {
			return nil, "", fmt.Errorf("ollama embedder: %w", err)
		}
		return e, "ollama:" + cfg.Model, nil
	}
	return nil, "", fmt.Errorf("embed: unknown provider %q (want hashing, openai or ollama)", cfg.Provider)
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
