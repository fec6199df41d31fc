package llm

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/llmtest"
)

func setup(t *testing.T, srv *llmtest.Server) *Classifier {
	t.Helper()
	return New(srv.Model(t), WithExamples(map[string][]string{"refund": {"I want my money back"}}, 2))
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
			srv := llmtest.New(t, tt.answer)
			srv.Fail(tt.status)
			c := setup(t, srv)
			got, err := c.Choose(context.Background(), "where is my money", candidates)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Choose = %q, want %q", got, tt.want)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			var body struct {
				Model    string `json:"model"`
				Messages []llmtest.Message
			}
			if err := json.Unmarshal([]byte(reqs[0]), &body); err != nil {
				t.Fatal(err)
			}
			if body.Model != "test" || len(body.Messages) != 1 {
				t.Fatalf("request = %s, want one message to model test", reqs[0])
			}
			for _, want := range []string{"refund", "order_status", "where is my money", "I want my money back"} {
				if !strings.Contains(body.Messages[0].Content, want) {
					t.Errorf("prompt lacks %q: %s", want, body.Messages[0].Content)
				}
			}
		})
	}
}
