// Package ratelimit bounds how often one key (a client address, a web chat visitor) may act:
// a token bucket per key (golang.org/x/time/rate) in a map that forgets idle keys, so a
// flood of new keys cannot grow it without bound. Limits are per process: with N replicas
// behind a load balancer a key gets up to N times the rate.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MaxKeys bounds the keys a Limiter remembers. When it is full, idle keys are forgotten
// first; if none is idle, the new key is refused (a flood of fresh keys is itself abuse).
const MaxKeys = 100_000

// Limiter allows each key a rate of events in bursts (see New). It is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	keys  map[string]*entry
	swept time.Time // when idle keys were last forgotten
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a Limiter allowing n events per period per key, in bursts of up to burst;
// now is the clock (nil: time.Now). n <= 0 allows everything.
func New(n int, period time.Duration, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := rate.Inf
	if n > 0 && period > 0 {
		l = rate.Every(period / time.Duration(n))
	}
	return &Limiter{limit: l, burst: max(burst, 1), now: now, keys: map[string]*entry{}}
}

// Allow reports whether key may act now, taking one token if so. When it may not, wait
// says how long until it may.
func (l *Limiter) Allow(key string) (ok bool, wait time.Duration) {
	if l.limit == rate.Inf {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > max(l.refill(), time.Minute) {
		l.forgetIdle(now)
		l.swept = now
	}
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= MaxKeys && !l.forgetIdle(now) {
			return false, l.refill()
		}
		e = &entry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// refill is how long an empty bucket takes to fill: after that a key's state is the same as
// a new key's, so it can be forgotten.
func (l *Limiter) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
}

// forgetIdle drops keys idle for longer than a full refill and reports whether any went.
func (l *Limiter) forgetIdle(now time.Time) bool {
	idle := l.refill()
	n := len(l.keys)
	for k, e := range l.keys {
		if now.Sub(e.seen) > idle {
			delete(l.keys, k)
		}
	}
	return len(l.keys) < n
}

// Len is how many keys the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
