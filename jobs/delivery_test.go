package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/storage"
)

// channel is an in-process connector whose sends the test scripts: each Send takes the
// next scripted error (nil when the script is used up) and records what it was given.
type channel struct {
	mu     sync.Mutex
	script []error
	sent   []connectors.Outgoing
	// hold, when set, makes each Send tell started and wait for hold to close (or its
	// context to end, failing as an HTTP client would).
	hold, started chan struct{}
}

func (c *channel) Channel() tandem.Channel                  { return tandem.ChannelSMS }
func (c *channel) Handler(connectors.Receiver) http.Handler { return nil }
func (c *channel) Send(ctx context.Context, o connectors.Outgoing) (string, error) {
	if c.hold != nil {
		c.started <- struct{}{}
		select {
		case <-c.hold:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if len(c.script) > 0 {
		err, c.script = c.script[0], c.script[1:]
	}
	if err != nil {
		return "", err
	}
	c.sent = append(c.sent, o)
	return fmt.Sprint("SM", len(c.sent)), nil
}

func (c *channel) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, o := range c.sent {
		out = append(out, o.Reply.Text)
	}
	return out
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	mu       sync.Mutex
	outcomes []string // what DeliveryConfig.Observe was told
	store    storage.Store
	sms      *channel
	clock    *clock
	d        *jobs.Deliverer
	conv     *tandem.Conversation
}

func setup(t *testing.T, open func(testing.TB) storage.Store, script ...error) *fixture {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550100")
	must(t, err)
	conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen}
	must(t, st.CreateConversation(ctx, conv))
	f := &fixture{store: st, sms: &channel{script: script}, clock: &clock{t: time.Now().Add(time.Minute)}, conv: conv}
	f.d, err = jobs.NewDeliverer(st, func(bot string, ch tandem.Channel) (connectors.Connector, bool) {
		return f.sms, bot == "demo" && ch == tandem.ChannelSMS
	}, jobs.DeliveryConfig{Now: f.clock.Now, MaxAttempts: 3, Backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute },
		Observe: func(_ tandem.Channel, outcome string, _ time.Duration) {
			f.mu.Lock()
			f.outcomes = append(f.outcomes, outcome)
			f.mu.Unlock()
		}})
	must(t, err)
	return f
}

// enqueue stores bot messages for texts, with deliveries for bot, in order.
func (f *fixture) enqueue(t *testing.T, bot string, texts ...string) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, text := range texts {
		m := &tandem.Message{ConversationID: f.conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: text}
		must(t, f.store.CreateMessage(ctx, m))
		must(t, f.store.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: bot, Channel: tandem.ChannelSMS,
			To: "+15550100", Reply: tandem.Reply{Text: text}}}))
		ids = append(ids, m.ID)
		time.Sleep(time.Millisecond) // distinct, ordered message ids
	}
	return ids
}

// observed fails unless the attempts so far had the outcomes want, in order.
func (f *fixture) observed(t *testing.T, want ...string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.outcomes) != fmt.Sprint(want) {
		t.Errorf("observed outcomes %v, want %v", f.outcomes, want)
	}
}

func (f *fixture) deliver(t *testing.T) int {
	t.Helper()
	n, err := f.d.DeliverDue(context.Background())
	must(t, err)
	return n
}

func (f *fixture) find(t *testing.T, id string) *tandem.Delivery {
	t.Helper()
	d, err := f.store.FindDelivery(context.Background(), id)
	must(t, err)
	return d
}

func TestDeliverer(t *testing.T) {
	t.Parallel()
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("OKShutdownFinishesSend", func(t *testing.T) {
				// Shutdown mid-send: the send in progress completes and is recorded (the
				// provider may have accepted it already); the recipient's next delivery is
				// handed back due at once, not kept until its lease ends.
				t.Parallel()
				f := setup(t, b.Open)
				ids := f.enqueue(t, "demo", "first", "second")
				f.sms.hold, f.sms.started = make(chan struct{}), make(chan struct{}, 2)
				ctx, shutdown := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { _, err := f.d.DeliverDue(ctx); done <- err }()
				<-f.sms.started
				shutdown()
				close(f.sms.hold)
				must(t, <-done)
				if got := f.sms.texts(); len(got) != 1 || got[0] != "first" {
					t.Fatalf("sent %q, want only first", got)
				}
				if d := f.find(t, ids[0]); d.Status != tandem.DeliverySent {
					t.Errorf("first after shutdown = %+v, want sent", d)
				}
				d := f.find(t, ids[1])
				if d.Status != tandem.DeliveryPending || d.Attempts != 0 || d.NextAt.After(f.clock.Now()) {
					t.Errorf("second after shutdown = %+v, want pending, no attempt, due now", d)
				}
				if n := f.deliver(t); n != 1 {
					t.Fatalf("next worker claimed %d, want the handed-back delivery", n)
				}
				if got := f.sms.texts(); len(got) != 2 || got[1] != "second" {
					t.Errorf("sent %q, want first then second", got)
				}
			})
			t.Run("OK", func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open)
				ids := f.enqueue(t, "demo", "first", "second")
				if n := f.deliver(t); n != 2 {
					t.Fatalf("claimed %d, want 2", n)
				}
				if got := f.sms.texts(); len(got) != 2 || got[0] != "first" || got[1] != "second" {
					t.Fatalf("sent %q, want first then second", got)
				}
				for i, id := range ids {
					d := f.find(t, id)
					if d.Status != tandem.DeliverySent || d.ProviderID != fmt.Sprint("SM", i+1) || d.Attempts != 1 {
						t.Errorf("delivery %d = %+v", i, d)
					}
				}
				if f.sms.sent[0].IdempotencyKey != ids[0] || f.sms.sent[0].To != "+15550100" || f.sms.sent[0].BotID != "demo" {
					t.Errorf("outgoing = %+v", f.sms.sent[0])
				}
				if n := f.deliver(t); n != 0 {
					t.Errorf("claimed %d sent deliveries again", n)
				}
				f.observed(t, jobs.OutcomeSent, jobs.OutcomeSent)
			})

			t.Run("RetryLater", func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open, &connectors.RetryLaterError{After: 30 * time.Second, Err: errors.New("429")})
				ids := f.enqueue(t, "demo", "first", "second")
				f.deliver(t)
				if got := f.sms.texts(); len(got) != 0 {
					t.Fatalf("sent %q while the provider asked to wait", got)
				}
				for _, id := range ids {
					d := f.find(t, id)
					if d.Status != tandem.DeliveryPending || d.Attempts != 0 || !d.NextAt.Equal(f.clock.Now().Add(30*time.Second).Truncate(time.Microsecond)) {
						t.Errorf("snoozed delivery = %+v, want pending, 0 attempts, due in 30s", d)
					}
				}
				if n := f.deliver(t); n != 0 {
					t.Errorf("claimed %d snoozed deliveries early", n)
				}
				f.clock.Add(30 * time.Second)
				f.deliver(t)
				if got := f.sms.texts(); len(got) != 2 || got[0] != "first" {
					t.Errorf("after the wait sent %q, want first then second", got)
				}
				f.observed(t, jobs.OutcomeSnoozed, jobs.OutcomeSent, jobs.OutcomeSent)
			})

			t.Run("ErrTransient", func(t *testing.T) {
				t.Parallel()
				boom := errors.New("502 bad gateway")
				f := setup(t, b.Open, boom, boom, boom)
				id := f.enqueue(t, "demo", "hello")[0]
				for attempt := 1; attempt <= 3; attempt++ {
					f.deliver(t)
					d := f.find(t, id)
					if d.Attempts != attempt || d.LastError != boom.Error() {
						t.Fatalf("after attempt %d: %+v", attempt, d)
					}
					if attempt < 3 {
						if d.Status != tandem.DeliveryPending || !d.NextAt.Equal(f.clock.Now().Add(time.Duration(attempt)*time.Minute).Truncate(time.Microsecond)) {
							t.Fatalf("attempt %d: %+v, want pending with backoff %d min", attempt, d, attempt)
						}
						f.clock.Add(time.Duration(attempt) * time.Minute)
					} else if d.Status != tandem.DeliveryFailed {
						t.Fatalf("after MaxAttempts: %s, want failed", d.Status)
					}
				}
				f.observed(t, jobs.OutcomeRetry, jobs.OutcomeRetry, jobs.OutcomeFailed)
			})

			t.Run("ErrInvalid", func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open, tandem.Errorf(tandem.EINVALID, "not a mobile number"))
				id := f.enqueue(t, "demo", "hello")[0]
				f.deliver(t)
				if d := f.find(t, id); d.Status != tandem.DeliveryFailed || d.Attempts != 1 {
					t.Errorf("delivery to a bad address = %+v, want failed after one attempt", d)
				}
				f.observed(t, jobs.OutcomeFailed)
			})

			t.Run("ErrNoConnector", func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open)
				id := f.enqueue(t, "other-bot", "hello")[0]
				f.deliver(t)
				if d := f.find(t, id); d.Status != tandem.DeliveryFailed || d.LastError == "" {
					t.Errorf("delivery without a connector = %+v, want failed with a reason", d)
				}
			})

			t.Run("RunWake", func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open)
				d, err := jobs.NewDeliverer(f.store, func(string, tandem.Channel) (connectors.Connector, bool) { return f.sms, true },
					jobs.DeliveryConfig{Poll: time.Hour})
				must(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- d.Run(ctx) }()
				f.enqueue(t, "demo", "woken")
				d.Wake()
				deadline := time.Now().Add(10 * time.Second)
				for len(f.sms.texts()) == 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
				must(t, <-done)
				if got := f.sms.texts(); len(got) != 1 {
					t.Errorf("Run with Wake sent %q, want the one delivery (poll is an hour)", got)
				}
			})
		})
	}
}

func TestDeliveryConfig(t *testing.T) {
	t.Parallel()
	_, err := jobs.NewDeliverer(nil, nil, jobs.DeliveryConfig{Lease: time.Second, SendTimeout: 2 * time.Second})
	if err == nil {
		t.Error("a lease shorter than the send timeout was accepted")
	}
	for n := 1; n <= 20; n++ {
		if d := jobs.Backoff(n); d < time.Second || d > 12*time.Minute {
			t.Errorf("Backoff(%d) = %s, want between 1.6s and 12m", n, d)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
