package storage

import (
	"context"
	"time"

	"github.com/tandemhq/tandem"
)

// SignInStore counts staff sign-in attempts where every replica sees them, so a limit
// holds however many replicas serve the sign-in page.
type SignInStore interface {
	// TakeSignInAttempt counts one attempt for key at now when lim allows it, and reports
	// whether it did; when not, nothing is counted and wait is how long until the next
	// attempt would be allowed. lim is a token bucket: lim.Burst attempts at once, one more
	// every lim.Every (kept as one row per key: when its bucket is full again). The check
	// and the count are one atomic step: of concurrent attempts for one key, on any
	// replicas, exactly as many are allowed as the bucket holds. Keys are opaque (staff
	// prefixes them: "email:", "client:"). Rows of buckets full for SignInPruneAfter are
	// deleted on later writes. lim.Every <= 0 or lim.Burst < 1: EINVALID.
	TakeSignInAttempt(ctx context.Context, key string, lim AttemptLimit, now time.Time) (ok bool, wait time.Duration, err error)
}

// SignInPruneAfter is how long after a key's bucket is full again its row may be deleted:
// long enough that replicas whose clocks differ a little never see a live bucket vanish.
const SignInPruneAfter = 24 * time.Hour

// AttemptLimit is a token bucket of attempts (see SignInStore).
type AttemptLimit struct {
	Every time.Duration // one attempt more is allowed each Every
	Burst int           // attempts allowed at once (a full bucket)
}

// Validate returns EINVALID for a limit that allows nothing or has no rate.
func (l AttemptLimit) Validate() error {
	if l.Every <= 0 || l.Burst < 1 {
		return tandem.Errorf(tandem.EINVALID, "an attempt limit needs a positive interval and a burst of at least 1 (got %s, %d)", l.Every, l.Burst)
	}
	return nil
}

// Take is the bucket's arithmetic, for adapters: given when key's bucket is full again
// (full, the zero time for a new key) it returns the new full time when an attempt at now
// is allowed, or ok false and how long to wait. (This is GCRA, the generic cell rate
// algorithm: one timestamp per key instead of a token count and a refill time.)
func (l AttemptLimit) Take(full, now time.Time) (next time.Time, ok bool, wait time.Duration) {
	next = now.Add(l.Every)
	if full.After(now) {
		next = full.Add(l.Every)
	}
	if over := next.Sub(now) - time.Duration(l.Burst)*l.Every; over > 0 {
		return full, false, over
	}
	return next, true, 0
}
