package storage_test

import (
	"testing"
	"time"

	"github.com/tandemhq/tandem/storage"
)

func TestAttemptLimitTake(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	lim := storage.AttemptLimit{Every: 10 * time.Minute, Burst: 3}
	tests := []struct {
		name     string
		full     time.Time // when the bucket is full again
		wantNext time.Time
		wantOK   bool
		wantWait time.Duration
	}{
		{"OKNewKey", time.Time{}, now.Add(10 * time.Minute), true, 0},
		{"OKFullInThePast", now.Add(-time.Hour), now.Add(10 * time.Minute), true, 0},
		{"OKOnePlaceLeft", now.Add(20 * time.Minute), now.Add(30 * time.Minute), true, 0},
		{"ErrEmpty", now.Add(30 * time.Minute), now.Add(30 * time.Minute), false, 10 * time.Minute},
		{"ErrEmptyAlmostFree", now.Add(21 * time.Minute), now.Add(21 * time.Minute), false, time.Minute},
	}
	for _, tt := range tests {
		next, ok, wait := lim.Take(tt.full, now)
		if !next.Equal(tt.wantNext) || ok != tt.wantOK || wait != tt.wantWait {
			t.Errorf("%s: Take = %v, %v, %s; want %v, %v, %s", tt.name, next, ok, wait, tt.wantNext, tt.wantOK, tt.wantWait)
		}
	}
}
