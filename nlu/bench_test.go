package nlu_test

import (
	"context"
	"testing"
)

// BenchmarkAnalyze measures a full annotation (language, intent, entities, sentiment, PII) of
// one message with a small bot model.
func BenchmarkAnalyze(b *testing.B) {
	m, _ := setup(b)
	ctx := context.Background()
	msgs := []string{
		"Where is my order A123456? It was supposed to arrive tomorrow",
		"I want to upgrade to the pro plan, call me at 415-555-2671",
		"this is terrible, nobody answers",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Analyze(ctx, msgs[i%len(msgs)])
	}
}
