package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testSignInAttempts covers the shared sign-in limits. Every subtest uses keys of its own
// and times within a few hours of when, well inside storage.SignInPruneAfter, so their
// pruning never touches another's rows.
func testSignInAttempts(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	lim := storage.AttemptLimit{Every: 12 * time.Minute, Burst: 5} // 5 at once, 5 an hour
	take := func(t *testing.T, key string, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.TakeSignInAttempt(ctx, key, lim, at)
		must(t, err)
		return ok, wait
	}
	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		for i := range lim.Burst {
			if ok, _ := take(t, "email:limit@example.com", when); !ok {
				t.Fatalf("attempt %d refused, want the first %d allowed", i+1, lim.Burst)
			}
		}
		ok, wait := take(t, "email:limit@example.com", when)
		if ok || wait != lim.Every {
			t.Errorf("attempt %d = %v, wait %s; want refused for %s", lim.Burst+1, ok, wait, lim.Every)
		}
		// A refused attempt is not counted: a minute later the wait is a minute shorter.
		if ok, wait := take(t, "email:limit@example.com", when.Add(time.Minute)); ok || wait != lim.Every-time.Minute {
			t.Errorf("a minute later = %v, wait %s; want refused for %s", ok, wait, lim.Every-time.Minute)
		}
		// Other keys have buckets of their own.
		if ok, _ := take(t, "client:192.0.2.1", when); !ok {
			t.Errorf("another key refused")
		}
	})
	t.Run("Window", func(t *testing.T) {
		t.Parallel()
		key := "email:window@example.com"
		for range lim.Burst {
			take(t, key, when)
		}
		if ok, _ := take(t, key, when.Add(lim.Every-time.Second)); ok {
			t.Errorf("allowed before a place came free")
		}
		// One place comes free every lim.Every; it is taken at once.
		if ok, _ := take(t, key, when.Add(lim.Every)); !ok {
			t.Errorf("refused after %s", lim.Every)
		}
		if ok, _ := take(t, key, when.Add(lim.Every)); ok {
			t.Errorf("two allowed after %s, want one", lim.Every)
		}
		// Idle for the whole window, the bucket is full again: Burst at once.
		later := when.Add(time.Duration(lim.Burst+1) * lim.Every)
		for i := range lim.Burst {
			if ok, _ := take(t, key, later); !ok {
				t.Fatalf("after the window, attempt %d refused", i+1)
			}
		}
		if ok, _ := take(t, key, later); ok {
			t.Errorf("after the window, attempt %d allowed", lim.Burst+1)
		}
	})
	t.Run("Race", func(t *testing.T) {
		t.Parallel()
		// Many attempts at once on one key are each counted once.
		const n = 16
		oks := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				oks[i], _, errs[i] = s.TakeSignInAttempt(ctx, "client:198.51.100.7", lim, when)
			})
		}
		close(start)
		wg.Wait()
		allowed := 0
		for i := range n {
			must(t, errs[i])
			if oks[i] {
				allowed++
			}
		}
		if allowed != lim.Burst {
			t.Errorf("%d of %d concurrent attempts allowed, want %d", allowed, n, lim.Burst)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		for _, bad := range []storage.AttemptLimit{{}, {Every: time.Minute}, {Burst: 1}, {Every: -time.Minute, Burst: 1}} {
			ok, _, err := s.TakeSignInAttempt(ctx, "email:invalid@example.com", bad, when)
			wantCode(t, err, tandem.EINVALID)
			if ok {
				t.Errorf("%+v: allowed", bad)
			}
		}
		// Nothing was counted for the key.
		for range lim.Burst {
			if ok, _ := take(t, "email:invalid@example.com", when); !ok {
				t.Fatal("a bad limit counted attempts")
			}
		}
	})
}
