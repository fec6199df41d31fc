package embed

import (
	"fmt"
	"maps"
	"testing"
)

// TestStatsAdd checks that counting many texts at once (split over goroutines) gives the
// same statistics as counting them one by one.
func TestStatsAdd(t *testing.T) {
	t.Parallel()
	h, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 3*addPerWorker+7)
	for i := range texts {
		texts[i] = fmt.Sprintf("document %d about topic %d and shipping %d", i, i%13, i%7)
	}
	got, want := NewStats(), NewStats()
	got.Add(h, texts...)
	for _, text := range texts {
		want.Add(h, text)
	}
	if got.Docs != want.Docs || !maps.Equal(got.DF, want.DF) {
		t.Errorf("Add = %d docs, %d features; one by one = %d docs, %d features", got.Docs, len(got.DF), want.Docs, len(want.DF))
	}
}
