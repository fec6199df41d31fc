package staff

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage/postgres"
)

// replicas returns two staff servers, each with its own PostgreSQL pool on one schema: two
// replicas of tandem serve.
func replicas(t *testing.T) [2]*fixture {
	t.Helper()
	dsn := pgtest.NewSchema(t)
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var out [2]*fixture
	for i := range out {
		st, err := postgres.Open(context.Background(), dsn, postgres.Config{Migrate: i == 0, Logger: slog.New(slog.DiscardHandler), MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out[i] = setupOn(st, c)
	}
	return out
}

// TestReplicasShareSignInLimits: attempts on two replicas count against one limit.
func TestReplicasShareSignInLimits(t *testing.T) {
	t.Parallel()
	t.Run("ErrPerEmail", func(t *testing.T) {
		t.Parallel()
		rs := replicas(t)
		rs[0].addAgent(t, "ann@example.com", tandem.AgentRoleAgent, goodPassword)
		// Twelve wrong guesses at once, six on each replica: the burst of five is let
		// through in all, not per replica.
		codes := make([]int, 12)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range codes {
			wg.Go(func() {
				<-start
				w, _ := rs[i%2].signIn(t, "ann@example.com", fmt.Sprint("wrong password ", i))
				codes[i] = w.Code
			})
		}
		close(start)
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[http.StatusUnauthorized] != SignInBurstPerEmail || count[http.StatusTooManyRequests] != len(codes)-SignInBurstPerEmail {
			t.Fatalf("statuses %v, want %d checked (401) and the rest refused (429)", count, SignInBurstPerEmail)
		}
		// Either replica refuses even the right password until a place comes free.
		for i, r := range rs {
			if w, c := r.signIn(t, "ann@example.com", goodPassword); w.Code != http.StatusTooManyRequests || c != nil {
				t.Errorf("replica %d: status %d, want 429", i, w.Code)
			}
		}
		rs[0].clock.Add(time.Hour / DefaultSignInsPerEmail)
		if w, c := rs[1].signIn(t, "ann@example.com", goodPassword); w.Code != http.StatusSeeOther || c == nil {
			t.Errorf("a place later: status %d, want 303", w.Code)
		}
	})
	t.Run("ErrPerClient", func(t *testing.T) {
		t.Parallel()
		rs := replicas(t)
		for i := range SignInBurstPerClient {
			if w, _ := rs[i%2].signIn(t, fmt.Sprintf("user%d@example.com", i), goodPassword); w.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401", i, w.Code)
			}
		}
		for i, r := range rs {
			if w, _ := r.signIn(t, "other@example.com", goodPassword); w.Code != http.StatusTooManyRequests {
				t.Errorf("replica %d, attempt %d from one client: status %d, want 429", i, SignInBurstPerClient+1, w.Code)
			}
		}
	})
}

// TestReplicasKeepAnAdmin: the only two admins demote each other at once on two replicas;
// one succeeds, the other is told the rule.
func TestReplicasKeepAnAdmin(t *testing.T) {
	t.Parallel()
	rs := replicas(t)
	ann, annCookie, annCSRF := rs[0].admin(t, "ann@example.com")
	bob, bobCookie, bobCSRF := rs[1].admin(t, "bob@example.com")
	reqs := []struct {
		f      *fixture
		target string
		form   url.Values
		cookie *http.Cookie
	}{
		{rs[0], AdminPath + "/agents/" + bob.ID, url.Values{"csrf": {annCSRF}, "role": {"agent"}}, annCookie},
		{rs[1], AdminPath + "/agents/" + ann.ID, url.Values{"csrf": {bobCSRF}, "role": {"agent"}}, bobCookie},
	}
	codes, bodies := make([]int, len(reqs)), make([]string, len(reqs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reqs {
		wg.Go(func() {
			<-start
			w := r.f.do(t, http.MethodPost, r.target, r.form, r.cookie)
			codes[i], bodies[i] = w.Code, w.Body.String()
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, code := range codes {
		switch {
		case code == http.StatusSeeOther:
			won++
		case code == http.StatusBadRequest && strings.Contains(bodies[i], "is the last admin: make someone else an admin first"):
		case code == http.StatusForbidden:
			// The other demotion committed before this request was authorised: its
			// sender is no longer an admin. A loss, as the last-admin refusal is.
		default:
			t.Errorf("demotion %d: status %d body:\n%s", i, code, bodies[i])
		}
	}
	if won != 1 {
		t.Fatalf("%d demotions succeeded, want exactly 1 (statuses %v)", won, codes)
	}
}
