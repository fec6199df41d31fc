package webchat_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem/connectors/webchat"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestMessageRateLimit: a visitor's messages over the limit are refused with a wait and not
// handed to the engine; resent with the same id after the wait, they are answered once.
func TestMessageRateLimit(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	f := setup(t, func(c *webchat.Config) {
		c.MessagesPerMinute, c.MessageBurst, c.Now = 60, 2, clock.Now
	})
	jar := newJar(t)
	c, _ := f.dial(t, jar, "bot=demo")
	for _, id := range []string{"1", "2"} {
		if got := c.say("hello", id); got.Type != "turn" {
			t.Fatalf("message %s within the burst: %+v, want a turn", id, got)
		}
		if id == "1" {
			c.next() // the new conversation's status
		}
	}
	got := c.say("and another", "3")
	if got.Type != "error" || got.Code != webchat.CodeRateLimited || got.ID != "3" || got.RetryAfterMS <= 0 || got.RetryAfterMS > 1000 {
		t.Fatalf("message over the limit: %+v, want a rate_limited error for id 3 with a wait in (0, 1000] ms", got)
	}
	if n := len(f.world.inbound()); n != 2 {
		t.Fatalf("the engine saw %d messages, want 2: a refused message must not reach it", n)
	}
	// Another tab of the same visitor shares the limit.
	tab, _ := f.dial(t, jar, "bot=demo")
	if got := tab.say("from the other tab", "4"); got.Code != webchat.CodeRateLimited {
		t.Errorf("the visitor's second tab: %+v, want rate_limited", got)
	}
	// Another visitor does not.
	if got := mustDial(t, f).say("hi", "1"); got.Type != "turn" {
		t.Errorf("another visitor: %+v, want a turn", got)
	}
	clock.Add(time.Second)
	if got := c.say("and another", "3"); got.Type != "turn" || got.Duplicate {
		t.Errorf("resent after the wait: %+v, want a new turn", got)
	}
}

func mustDial(t *testing.T, f *fixture) *client {
	t.Helper()
	c, _ := f.dial(t, newJar(t), "bot=demo")
	return c
}

// TestConnectionRateLimit: one address opening sockets over the limit gets 429 with
// Retry-After; other addresses (as ClientIP reads them) are not affected.
func TestConnectionRateLimit(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	f := setup(t, func(c *webchat.Config) {
		c.ConnectionsPerMinute, c.Now = 2, clock.Now
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	dial := func(client string) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + webchat.Path
		conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Client": {client}}})
		if err == nil {
			_ = conn.CloseNow()
		}
		return res, err
	}
	for range 2 {
		if _, err := dial("a"); err != nil {
			t.Fatalf("handshake within the limit: %v", err)
		}
	}
	res, err := dial("a")
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("handshake over the limit: %v %v, want 429 with Retry-After", res, err)
	}
	if _, err := dial("b"); err != nil {
		t.Errorf("another address: %v, want accepted", err)
	}
	clock.Add(30 * time.Second)
	if _, err := dial("a"); err != nil {
		t.Errorf("after the refill: %v, want accepted", err)
	}
}
