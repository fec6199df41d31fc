package llm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tmc/langchaingo/llms/openai"
)

// server is a scripted OpenAI-compatible chat completions endpoint.
type server struct {
	mu     sync.Mutex
	status int
	answer string
	body   map[string]any
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	s.body = nil
	_ = json.NewDecoder(r.Body).Decode(&s.body)
	if s.status != 0 && s.status != http.StatusOK {
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(`{"error":{"message":"boom","type":"server_error"}}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": s.answer}}},
		"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
	})
}

func setup(t *testing.T, srv *server) *Classifier {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	model, err := openai.New(openai.WithBaseURL(ts.URL+"/v1"), openai.WithToken("test"), openai.WithModel("test-model"),
		openai.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return New(model, WithExamples(map[string][]string{"refund": {"I want my money back"}}, 2))
}

func TestChoose(t *testing.T) {
	t.Parallel()
	candidates := []string{"refund", "order_status"}
	tests := []struct {
		name    string
		status  int
		answer  string
		want    string
		wantErr bool
	}{
		{"OK", 200, "refund", "refund", false},
		{"OK/quoted", 200, "\"Order_Status\".", "order_status", false},
		{"OK/sentence", 200, "The intent is order_status", "order_status", false},
		{"OK/none", 200, "none", tandem.IntentOutOfScope, false},
		{"ErrUnknownAnswer", 200, "weather", "", true},
		{"ErrServer", 400, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &server{status: tt.status, answer: tt.answer}
			c := setup(t, srv)
			got, err := c.Choose(context.Background(), "where is my money", candidates)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Choose = %q, want %q", got, tt.want)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.body["model"] != "test-model" {
				t.Errorf("model sent = %v", srv.body["model"])
			}
			raw, _ := json.Marshal(srv.body["messages"])
			for _, want := range []string{"refund", "order_status", "where is my money", "I want my money back"} {
				if !strings.Contains(string(raw), want) {
					t.Errorf("prompt lacks %q: %s", want, raw)
				}
			}
		})
	}
}
