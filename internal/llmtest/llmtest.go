// Package llmtest serves a scripted OpenAI-compatible chat completions endpoint, so tests
// exercise the real langchaingo client (llms/openai) against a local server instead of a
// mock of llms.Model.
package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

// Server answers POST /v1/chat/completions with its scripted reply and records the request
// bodies. It is safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	reply    string
	status   int
	requests []string
}

// New starts a server that replies with reply; it is closed when the test ends.
func New(t testing.TB, reply string) *Server {
	t.Helper()
	s := &Server{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, string(b))
	reply, status := s.reply, s.status
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status != 0 && status != http.StatusOK {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":{"message":"scripted failure","type":"server_error"}}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test",
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": reply}}},
		"usage": map[string]int{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
	})
}

// SetReply changes what the server answers.
func (s *Server) SetReply(reply string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = reply
}

// Fail makes the server answer every request with status (e.g. 500); 0 or 200 heals it.
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Requests returns the request bodies received so far (JSON), oldest first.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Messages returns the chat messages of each request received so far, oldest first
// (nil for a request whose messages are not plain text).
func (s *Server) Messages() [][]Message {
	var out [][]Message
	for _, b := range s.Requests() {
		var req struct {
			Messages []Message `json:"messages"`
		}
		_ = json.Unmarshal([]byte(b), &req)
		out = append(out, req.Messages)
	}
	return out
}

// BaseURL is what an OpenAI-compatible client is configured with (it ends in /v1).
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Model returns an OpenAI client for the server.
func (s *Server) Model(t testing.TB) llms.Model {
	t.Helper()
	m, err := openai.New(openai.WithBaseURL(s.BaseURL()), openai.WithToken("test"), openai.WithModel("test"),
		openai.WithHTTPClient(s.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
