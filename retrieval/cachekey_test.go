package retrieval

import (
	"context"
	"testing"

	"github.com/tmc/langchaingo/llms"
)

// valueModel is a model that is not a pointer, so it has no address to key answers by.
type valueModel struct{ name string }

func (valueModel) GenerateContent(context.Context, []llms.MessageContent, ...llms.CallOption) (*llms.ContentResponse, error) {
	return nil, nil
}

func (valueModel) Call(context.Context, string, ...llms.CallOption) (string, error) { return "", nil }

type pointerModel struct{ valueModel }

func TestCacheKey(t *testing.T) {
	t.Parallel()
	const q = "How long does shipping take?"
	a, b := &pointerModel{}, &pointerModel{}
	key := func(opts AnswerOptions, m llms.Model) string {
		k, ok := cacheKey(q, opts, m)
		if !ok {
			t.Fatalf("cacheKey(%+v, %T) not cacheable", opts, m)
		}
		return k
	}
	offline := key(AnswerOptions{}, nil)
	tests := []struct {
		name      string
		k1, k2    string
		wantEqual bool
	}{
		{"OK/offline ignores the persona", offline, key(AnswerOptions{Persona: "Sunny"}, nil), true},
		{"OK/same model and persona", key(AnswerOptions{Persona: "Sunny"}, a), key(AnswerOptions{Persona: "Sunny"}, a), true},
		{"OK/model is not offline", offline, key(AnswerOptions{}, a), false},
		{"OK/other model", key(AnswerOptions{Persona: "Sunny"}, a), key(AnswerOptions{Persona: "Sunny"}, b), false},
		{"OK/other persona", key(AnswerOptions{Persona: "Sunny"}, a), key(AnswerOptions{Persona: "Grumpy"}, a), false},
		// The persona cannot spill into the fields that follow it.
		{"OK/persona and language", key(AnswerOptions{Persona: "a\x00en"}, a), key(AnswerOptions{Persona: "a", Language: "en"}, a), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.k1 == tt.k2; got != tt.wantEqual {
				t.Errorf("keys equal = %v, want %v (%q, %q)", got, tt.wantEqual, tt.k1, tt.k2)
			}
		})
	}
	if _, ok := cacheKey(q, AnswerOptions{}, valueModel{}); ok {
		t.Error("a model without an address is cacheable")
	}
}
