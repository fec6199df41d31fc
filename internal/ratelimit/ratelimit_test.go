package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)} }
func allowN(l *Limiter, key string, n int) (allowed int) {
	for range n {
		if ok, _ := l.Allow(key); ok {
			allowed++
		}
	}
	return allowed
}

func TestAllow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		n           int
		period      time.Duration
		burst       int
		tries       int
		wantAllowed int
	}{
		{name: "OK/WithinBurst", n: 60, period: time.Minute, burst: 5, tries: 5, wantAllowed: 5},
		{name: "ErrOverBurst", n: 60, period: time.Minute, burst: 5, tries: 8, wantAllowed: 5},
		{name: "OK/Unlimited", n: 0, period: time.Minute, burst: 1, tries: 1000, wantAllowed: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := New(tt.n, tt.period, tt.burst, c.now)
			if got := allowN(l, "a", tt.tries); got != tt.wantAllowed {
				t.Errorf("allowed %d of %d, want %d", got, tt.tries, tt.wantAllowed)
			}
		})
	}
}

func TestRefillAndWait(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(60, time.Minute, 2, c.now) // one a second, bursts of 2
	allowN(l, "a", 2)
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("Allow after the burst = %v, wait %v; want refused with a wait in (0, 1s]", ok, wait)
	}
	if got := allowN(l, "b", 2); got != 2 {
		t.Errorf("another key was allowed %d of 2: keys must not share a bucket", got)
	}
	c.add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after a second's refill")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("allowed twice after one token's refill")
	}
}

func TestForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(60, time.Minute, 2, c.now)
	for i := range 1000 {
		l.Allow(strconv.Itoa(i))
	}
	if l.Len() != 1000 {
		t.Fatalf("Len = %d, want 1000", l.Len())
	}
	c.add(2 * time.Minute) // every bucket is full again: the keys carry no state
	l.Allow("fresh")
	if got := l.Len(); got != 1 {
		t.Errorf("Len after the idle keys' refill = %d, want 1", got)
	}
}

func TestFullMapRefusesNewKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(60, time.Minute, 1, c.now)
	for i := range MaxKeys {
		l.Allow(strconv.Itoa(i))
	}
	if ok, wait := l.Allow("one too many"); ok || wait <= 0 {
		t.Errorf("a key past MaxKeys with none idle: Allow = %v, wait %v; want refused with a wait", ok, wait)
	}
	if ok, _ := l.Allow("0"); ok {
		t.Error("a known key with an empty bucket was allowed")
	}
	c.add(2 * time.Second)
	if ok, _ := l.Allow("one too many"); !ok {
		t.Error("a new key was refused after the others went idle")
	}
}
