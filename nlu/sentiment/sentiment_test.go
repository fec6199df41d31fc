package sentiment

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/tandemhq/tandem"
)

func TestLexiconSentiment(t *testing.T) {
	t.Parallel()
	tests := []struct{ text, want string }{
		{"This is great, thank you!", tandem.SentimentPositive},
		{"this is not good", tandem.SentimentNegative},
		{"terrible service, I hate it", tandem.SentimentNegative},
		{"not bad at all", tandem.SentimentPositive},
		{"I want to change my address", tandem.SentimentNeutral},
		{"😡😡", tandem.SentimentNegative},
		{"👍", tandem.SentimentPositive},
	}
	for _, tt := range tests {
		got := LexiconSentiment(tt.text)
		if got.Label != tt.want || got.Score < -1 || got.Score > 1 {
			t.Errorf("LexiconSentiment(%q) = %+v, want %s", tt.text, got, tt.want)
		}
	}
	if a, b := LexiconScore("good"), LexiconScore("very good"); !(b > a) {
		t.Errorf("intensifier: very good %.3f <= good %.3f", b, a)
	}
}

func TestTrend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scores []float64
		want   float64
	}{
		{"OK/empty", nil, 0},
		{"OK/one", []float64{0.5}, 0.5},
		{"OK/recentWeighs", []float64{1, -1}, (1 - 1.5) / 2.5},
	}
	for _, tt := range tests {
		if got := Trend(tt.scores); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: Trend = %v, want %v", tt.name, got, tt.want)
		}
	}
	if down := Trend([]float64{0.8, 0.2, -0.9}); down >= 0 {
		t.Errorf("a conversation turning sour should trend negative, got %v", down)
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ text, want string }{
		{"@united thanks so much, the crew was amazing!", tandem.SentimentPositive},
		{"@united my flight is delayed again, worst airline ever", tandem.SentimentNegative},
		{"@united what time does the gate open for flight 123?", tandem.SentimentNeutral},
		{"最悪です。荷物が届かない", tandem.SentimentNegative},
		{"ありがとう、とても助かりました", tandem.SentimentPositive},
		{"今日は雨が降りますか", tandem.SentimentNeutral},
		{"Das ist schrecklich", tandem.SentimentNegative},
		{"Je suis très content, merci", tandem.SentimentPositive},
	}
	for _, tt := range tests {
		got := m.Score(tt.text)
		if got.Label != tt.want {
			t.Errorf("Score(%q) = %+v, want %s", tt.text, got, tt.want)
		}
		if pkg := Score(tt.text); pkg != got {
			t.Errorf("package Score(%q) = %+v, want %+v", tt.text, pkg, got)
		}
	}
}

func TestTrainSaveLoad(t *testing.T) {
	t.Parallel()
	ex := []Example{
		{"I love it", "positive"}, {"great, thanks", "positive"}, {"awesome help", "positive"},
		{"I hate it", "negative"}, {"awful, broken", "negative"}, {"worst ever", "negative"},
		{"what time is it", "neutral"}, {"where is the office", "neutral"}, {"my order number", "neutral"},
	}
	m, err := Train(context.Background(), ex, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		if a, b := m.Score(e.Text), m2.Score(e.Text); a != b {
			t.Errorf("after Load, Score(%q) = %+v, want %+v", e.Text, b, a)
		}
	}
	if _, err := Train(context.Background(), []Example{{"x", "angry"}}, Options{}); err == nil {
		t.Error("Train with a bad label: want error")
	}
}

// BenchmarkScore measures scoring one message with the embedded model.
func BenchmarkScore(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Score("@united my flight is delayed again and nobody at the gate helps, thanks a lot")
	}
}
