package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ User, Text string }
		if r.URL.Path != "/api/v1/bots/demo/messages" || json.NewDecoder(r.Body).Decode(&in) != nil || in.User == "" || in.Text == "" {
			http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
			return
		}
		got.Add(1)
		w.Write([]byte(`{"replies":[]}`))
	}))
	defer srv.Close()

	t.Run("OK", func(t *testing.T) {
		res, err := Run(context.Background(), Config{BaseURL: srv.URL, Bot: "demo", Customers: 4, Duration: 5 * time.Second, MaxTurns: 40})
		if err != nil {
			t.Fatal(err)
		}
		if res.Turns != 40 || res.Errors != 0 {
			t.Errorf("turns = %d errors = %d, want 40 and 0", res.Turns, res.Errors)
		}
		if res.P50Ms > res.P99Ms || res.P99Ms > res.MaxMs {
			t.Errorf("percentiles out of order: %+v", res)
		}
		if len(res.ByMessage) != len(DefaultScript) {
			t.Fatalf("by message: %d entries, want %d", len(res.ByMessage), len(DefaultScript))
		}
		sum := 0
		for i, m := range res.ByMessage {
			sum += m.Turns
			if m.Text != DefaultScript[i] || m.P50Ms > m.P99Ms || m.P99Ms > res.MaxMs {
				t.Errorf("by message %d = %+v", i, m)
			}
		}
		if sum != res.Turns {
			t.Errorf("by message: %d turns, want %d", sum, res.Turns)
		}
	})
	t.Run("OKOpenLoop", func(t *testing.T) {
		res, err := Run(context.Background(), Config{BaseURL: srv.URL, Bot: "demo", Customers: 4, Duration: 5 * time.Second, MaxTurns: 40, Rate: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Turns != 40 || res.Errors != 0 {
			t.Errorf("turns = %d errors = %d, want 40 and 0", res.Turns, res.Errors)
		}
	})
	t.Run("OKWarmup", func(t *testing.T) {
		// The warm-up's turns are answered and counted apart; the measurement starts once,
		// after them, on the same connections.
		before := got.Load()
		var marks atomic.Int64
		res, err := Run(context.Background(), Config{BaseURL: srv.URL, Bot: "demo", Customers: 4,
			Warmup: 100 * time.Millisecond, Duration: 5 * time.Second, MaxTurns: 40,
			OnMeasure: func() { marks.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Turns != 40 || res.WarmupTurns == 0 || marks.Load() != 1 {
			t.Errorf("turns = %d, warm-up turns = %d, OnMeasure called %d times; want 40, > 0, 1", res.Turns, res.WarmupTurns, marks.Load())
		}
		if served := got.Load() - before; served < int64(res.WarmupTurns+res.Turns) {
			t.Errorf("server answered %d turns, fewer than the %d reported", served, res.WarmupTurns+res.Turns)
		}
	})
	t.Run("ErrUnknownBot", func(t *testing.T) {
		res, err := Run(context.Background(), Config{BaseURL: srv.URL, Bot: "nope", Customers: 2, Duration: 5 * time.Second, MaxTurns: 4})
		if err == nil || res.Errors != 4 || res.FirstError == "" {
			t.Errorf("err = %v, result %+v: want every turn counted as an error", err, res)
		}
	})
}

// TestOffer checks the open-loop schedule in a bubble with a fake clock: rate × duration
// evenly spaced times (those of the last millisecond may be cut off by the end of the run),
// and the channel closed when the run ends.
func TestOffer(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{100, 4000} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			tickets := make(chan time.Time, 1<<16)
			go offer(ctx, rate, start, tickets)
			<-ctx.Done()
			synctest.Wait()
			var got []time.Time
			for tt := range tickets {
				got = append(got, tt)
			}
			if lo, hi := int(rate*0.999), int(rate)+1; len(got) < lo || len(got) > hi {
				t.Fatalf("rate %v: %d times offered, want %d to %d", rate, len(got), lo, hi)
			}
			step := time.Duration(float64(time.Second) / rate)
			for i, tt := range got {
				if want := start.Add(time.Duration(i) * step); !tt.Equal(want) {
					t.Fatalf("rate %v: time %d = +%v, want +%v", rate, i, tt.Sub(start), want.Sub(start))
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0, 1}, {1, 10}} {
		if got := percentile(d, tt.p); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}
