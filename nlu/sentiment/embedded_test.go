package sentiment

import (
	"context"
	"encoding/csv"
	"os"
	"testing"
)

// TestWriteEmbeddedModel regenerates model/airline.gob when TANDEM_SENTIMENT_TRAIN names the
// airline sentiment train.csv:
//
//	TANDEM_SENTIMENT_TRAIN=/work/shared/data/airline_sentiment/train.csv go test -run WriteEmbedded ./nlu/sentiment/
func TestWriteEmbeddedModel(t *testing.T) {
	path := os.Getenv("TANDEM_SENTIMENT_TRAIN")
	if path == "" {
		t.Skip("TANDEM_SENTIMENT_TRAIN not set")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ex := make([]Example, 0, len(rows))
	for _, r := range rows[1:] {
		ex = append(ex, Example{Text: r[0], Label: r[1]})
	}
	m, err := Train(context.Background(), ex, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create("model/airline.gob")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
