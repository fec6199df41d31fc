package retrieval_test

import (
	"testing"

	"github.com/tandemhq/tandem/retrieval"
)

func TestGrounded(t *testing.T) {
	t.Parallel()
	ps := []retrieval.Passage{{Title: "Shipping times", Text: "Standard shipping takes 3 to 5 business days. See https://help.example.com/shipping for tracking."}}
	tests := []struct {
		name, answer string
		want         bool
	}{
		{"OK/paraphrase", "Standard shipping takes 3 to 5 business days.", true},
		{"OK/link", "Track your parcel at https://help.example.com/shipping.", true},
		{"OK/japaneseAnswer", "通常の配送は3〜5営業日かかります。", true},
		{"ErrNumber", "Standard shipping takes 2 business days.", false},
		{"ErrLink", "Standard shipping takes 3 to 5 business days, see https://evil.example.com.", false},
		{"ErrUnsupported", "Our drones deliver pizza across the galaxy overnight.", false},
		{"ErrEmpty", "", false},
	}
	for _, tt := range tests {
		if got := retrieval.Grounded(tt.answer, ps); got != tt.want {
			t.Errorf("%s: Grounded = %v, want %v", tt.name, got, tt.want)
		}
	}
}
