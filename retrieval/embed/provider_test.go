package embed

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewProvider(t *testing.T) {
	t.Parallel()
	// Each server speaks its provider's embedding API and answers with vectors of the
	// input's length so the test can check the order.
	openaiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, "bad request", http.StatusUnauthorized)
			return
		}
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "emb-model" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		data := []map[string]any{}
		for i, in := range req.Input {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": []float32{float32(len(in)), 1, 0}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}})
	}))
	t.Cleanup(openaiSrv.Close)
	ollamaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/embed" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model string `json:"model"`
			Input any    `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "nomic-embed-text" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var inputs []string
		switch in := req.Input.(type) {
		case string:
			inputs = []string{in}
		case []any:
			for _, s := range in {
				inputs = append(inputs, s.(string))
			}
		}
		var embs [][]float32
		for _, in := range inputs {
			embs = append(embs, []float32{float32(len(in)), 2, 0})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": embs})
	}))
	t.Cleanup(ollamaSrv.Close)

	tests := []struct {
		name     string
		cfg      ProviderConfig
		wantName string
		wantErr  bool
	}{
		{"OK/hashing", ProviderConfig{Dimension: 64}, "hashing-v1:d=64", false},
		{"OK/openai", ProviderConfig{Provider: "openai", BaseURL: openaiSrv.URL + "/v1", Model: "emb-model", APIKey: "sk-test"}, "openai:emb-model", false},
		{"OK/ollama", ProviderConfig{Provider: "ollama", BaseURL: ollamaSrv.URL}, "ollama:nomic-embed-text", false},
		{"ErrOpenAIUnauthorized", ProviderConfig{Provider: "openai", BaseURL: openaiSrv.URL + "/v1", Model: "emb-model", APIKey: "wrong"}, "openai:emb-model", true},
		{"ErrUnknown", ProviderConfig{Provider: "word2vec"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, name, err := NewProvider(tt.cfg)
			if err != nil {
				if !tt.wantErr {
					t.Fatal(err)
				}
				return
			}
			if !strings.HasPrefix(name, tt.wantName) {
				t.Errorf("name = %q, want prefix %q", name, tt.wantName)
			}
			vs, err := e.EmbedDocuments(context.Background(), []string{"a", "abc"})
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 2 {
				t.Fatalf("got %d vectors", len(vs))
			}
			if tt.cfg.Provider != "" && (vs[0][0] != 1 || vs[1][0] != 3) {
				t.Errorf("vectors = %v, want lengths 1 and 3 first", vs)
			}
			q, err := e.EmbedQuery(context.Background(), "hello")
			if err != nil || len(q) == 0 {
				t.Fatalf("EmbedQuery = %v, %v", q, err)
			}
		})
	}
}
