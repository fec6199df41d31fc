package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/jobs"
)

// outsideWindow is a connector's refusal of a free-form message outside the channel's
// window, as connectors/twilio returns it for Twilio error 63016.
var outsideWindow = fmt.Errorf("twilio: send: %w: %w",
	tandem.Errorf(tandem.EINVALID, "WhatsApp accepts only templates (error 63016)"), connectors.ErrOutsideWindow)

// TestDelivererHold checks what the worker does with a delivery the channel refuses for a
// closed window: HoldFunc decides between holding it (not retried, not failed) and failing
// it, and its error makes the worker try again later.
func TestDelivererHold(t *testing.T) {
	t.Parallel()
	type hold struct {
		ok  bool
		err error
	}
	tests := []struct {
		name      string
		script    []error
		hold      *hold // nil: no HoldFunc
		want      []tandem.DeliveryStatus
		outcomes  []string
		wantAsked []int // the deliveries HoldFunc was asked about, in order
		rounds    int   // worker runs, an hour apart; 0 means 1
	}{
		{name: "OKHeld", script: []error{outsideWindow, outsideWindow}, hold: &hold{ok: true},
			want:     []tandem.DeliveryStatus{tandem.DeliveryHeld, tandem.DeliveryHeld},
			outcomes: []string{jobs.OutcomeHeld, jobs.OutcomeHeld}, wantAsked: []int{0, 1}},
		{name: "OKHeldThenSent", script: []error{outsideWindow, nil}, hold: &hold{ok: true},
			want:     []tandem.DeliveryStatus{tandem.DeliveryHeld, tandem.DeliverySent},
			outcomes: []string{jobs.OutcomeHeld, jobs.OutcomeSent}, wantAsked: []int{0}},
		{name: "ErrNotHeldFails", script: []error{outsideWindow, outsideWindow}, hold: &hold{ok: false},
			want:     []tandem.DeliveryStatus{tandem.DeliveryFailed, tandem.DeliveryFailed},
			outcomes: []string{jobs.OutcomeFailed, jobs.OutcomeFailed}, wantAsked: []int{0, 1}},
		{name: "ErrNoHoldFuncFails", script: []error{outsideWindow, outsideWindow},
			want:     []tandem.DeliveryStatus{tandem.DeliveryFailed, tandem.DeliveryFailed},
			outcomes: []string{jobs.OutcomeFailed, jobs.OutcomeFailed}},
		{name: "ErrHoldFuncFailsRetries", script: []error{outsideWindow}, hold: &hold{err: errors.New("store down")},
			// The second waits for the first, which is tried again later.
			want:     []tandem.DeliveryStatus{tandem.DeliveryPending, tandem.DeliveryPending},
			outcomes: []string{jobs.OutcomeRetry}, wantAsked: []int{0}},
		{name: "ErrHoldFuncFailsUntilMaxAttempts", script: []error{outsideWindow, outsideWindow, outsideWindow}, rounds: 3,
			hold:     &hold{err: errors.New("store down")},
			want:     []tandem.DeliveryStatus{tandem.DeliveryFailed, tandem.DeliverySent},
			outcomes: []string{jobs.OutcomeRetry, jobs.OutcomeRetry, jobs.OutcomeFailed, jobs.OutcomeSent}, wantAsked: []int{0, 0, 0}},
		{name: "ErrOtherInvalidNotAsked", script: []error{tandem.Errorf(tandem.EINVALID, "blocked"), nil}, hold: &hold{ok: true},
			want:     []tandem.DeliveryStatus{tandem.DeliveryFailed, tandem.DeliverySent},
			outcomes: []string{jobs.OutcomeFailed, jobs.OutcomeSent}},
	}
	for _, b := range teststore.All {
		for _, tt := range tests {
			t.Run(b.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open, tt.script...)
				var mu sync.Mutex
				var asked []string
				cfg := jobs.DeliveryConfig{Now: f.clock.Now, MaxAttempts: 3, Backoff: func(n int) time.Duration { return time.Minute },
					Observe: func(_ tandem.Channel, outcome string, _ time.Duration) {
						f.mu.Lock()
						f.outcomes = append(f.outcomes, outcome)
						f.mu.Unlock()
					}}
				if tt.hold != nil {
					cfg.HoldFunc = func(_ context.Context, dl tandem.Delivery) (bool, error) {
						mu.Lock()
						asked = append(asked, dl.MessageID)
						mu.Unlock()
						return tt.hold.ok, tt.hold.err
					}
				}
				var err error
				f.d, err = jobs.NewDeliverer(f.store, func(bot string, ch tandem.Channel) (connectors.Connector, bool) {
					return f.sms, ch == tandem.ChannelSMS
				}, cfg)
				must(t, err)
				ids := f.enqueue(t, "demo", "first reply", "second reply")
				if n := f.deliver(t); n != 2 {
					t.Fatalf("claimed %d, want 2", n)
				}
				for range tt.rounds - 1 {
					f.clock.Add(time.Hour)
					f.deliver(t)
				}
				for i, id := range ids {
					d := f.find(t, id)
					if d.Status != tt.want[i] {
						t.Errorf("delivery %d is %s (%s), want %s", i, d.Status, d.LastError, tt.want[i])
					}
					if d.Status == tandem.DeliveryHeld && !strings.Contains(d.LastError, "63016") {
						t.Errorf("held delivery's last error = %q, want the provider's reason", d.LastError)
					}
				}
				f.observed(t, tt.outcomes...)
				var wantAsked []string
				for _, i := range tt.wantAsked {
					wantAsked = append(wantAsked, ids[i])
				}
				if !slices.Equal(asked, wantAsked) {
					t.Errorf("HoldFunc asked about %v, want %v", asked, wantAsked)
				}
				// Held deliveries are not claimed again.
				f.clock.Add(time.Hour)
				if tt.want[0] == tandem.DeliveryHeld {
					f.deliver(t)
					if d := f.find(t, ids[0]); d.Status != tandem.DeliveryHeld || d.Attempts != 1 {
						t.Errorf("held delivery after another run = %s, %d attempts; want held after 1", d.Status, d.Attempts)
					}
				}
			})
		}
	}
}
