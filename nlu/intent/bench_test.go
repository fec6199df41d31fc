package intent

import (
	"context"
	"encoding/csv"
	"os"
	"testing"
)

// benchData reads TANDEM_BENCH_INTENTS (a text,label CSV such as banking77/train.csv) or falls
// back to the small built-in English set.
func benchData(b *testing.B) []Example {
	b.Helper()
	path := os.Getenv("TANDEM_BENCH_INTENTS")
	if path == "" {
		return english
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	ex := make([]Example, 0, len(rows)-1)
	for _, r := range rows[1:] {
		ex = append(ex, Example{r[0], r[1]})
	}
	return ex
}

// BenchmarkPredict measures one classification (top 3 candidates) of a training-set message;
// run with TANDEM_BENCH_INTENTS=/work/shared/data/banking77/train.csv for a realistic model.
func BenchmarkPredict(b *testing.B) {
	ex := benchData(b)
	c, err := Train(context.Background(), ex, Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Predict(ex[(i*7919)%len(ex)].Text, 3)
	}
}

// BenchmarkTrain measures training (including the held-out calibration pass) and reports the
// saved model's size.
func BenchmarkTrain(b *testing.B) {
	ex := benchData(b)
	var c *Classifier
	for b.Loop() {
		var err error
		if c, err = Train(context.Background(), ex, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	var n countWriter
	if err := c.Save(&n); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n), "model_bytes")
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }
