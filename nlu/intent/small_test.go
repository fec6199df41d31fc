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
