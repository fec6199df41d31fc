package intent

import (
	"context"
	"testing"
)

func TestSmallBotOutOfScope(t *testing.T) {
	t.Parallel()
	c, err := Train(context.Background(), english, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"what's the weather in paris", "tell me a joke", "who won the football game", "banana"} {
		if got := c.Predict(s, 2); got.Intent != OutOfScope {
			t.Errorf("Predict(%q) = %+v, want %s", s, got, OutOfScope)
		}
	}
	for _, e := range english[:6] {
		got := c.Predict(e.Text, 1)
		if got.Intent != e.Intent || got.Confidence < 0.5 {
			t.Errorf("Predict(%q) = %+v, want %s with confidence >= 0.5", e.Text, got, e.Intent)
		}
	}
}

// TestTinyBots: bots with one intent or one example per intent train (no panic, no error)
// and recognise their own examples.
func TestTinyBots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		examples []Example
	}{
		{"OneIntentOneExample", []Example{{Text: "where is my order", Intent: "track"}}},
		{"OneIntentManyExamples", []Example{{Text: "where is my order", Intent: "track"}, {Text: "track my parcel", Intent: "track"},
			{Text: "has my package shipped", Intent: "track"}, {Text: "order status please", Intent: "track"}}},
		{"OneExampleEach", []Example{{Text: "where is my order", Intent: "track"}, {Text: "I want a refund", Intent: "refund"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Train(context.Background(), tt.examples, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.examples {
				if got := c.Predict(e.Text, 1); got.Intent != e.Intent {
					t.Errorf("Predict(%q) = %+v, want %s", e.Text, got, e.Intent)
				}
			}
		})
	}
}
