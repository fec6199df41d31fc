package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/jobs"
)

// TestHandleStatus checks how providers' later status reports change a sent delivery:
// only forward, whatever their order or number, and a closed window through HoldFunc.
func TestHandleStatus(t *testing.T) {
	t.Parallel()
	delivered := connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: "SM1", Status: "delivered", Outcome: connectors.StatusDelivered}
	read := connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: "SM1", Status: "read", Outcome: connectors.StatusDelivered}
	sent := connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: "SM1", Status: "sent", Outcome: connectors.StatusProgress}
	landline := connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: "SM1", Status: "undelivered", Outcome: connectors.StatusFailed,
		Reason: "the number is a landline (error 30006)"}
	window := connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: "SM1", Status: "failed", Outcome: connectors.StatusFailed,
		Reason: "WhatsApp accepts only templates (error 63016)", OutsideWindow: true}
	type hold struct {
		ok  bool
		err error
	}
	tests := []struct {
		name          string
		reports       []connectors.StatusReport
		hold          *hold
		want          tandem.DeliveryStatus
		wantErr       string // in LastError
		deliveredAt   int    // the report (from 1) whose time DeliveredAt is; 0: zero
		asked         int    // HoldFunc calls
		wantStatusErr string // the code HandleStatus returns for the last report
	}{
		{name: "OKDelivered", reports: []connectors.StatusReport{delivered}, want: tandem.DeliveryDelivered, deliveredAt: 1},
		{name: "OKSentThenDelivered", reports: []connectors.StatusReport{sent, delivered}, want: tandem.DeliveryDelivered, deliveredAt: 2},
		{name: "OKReadKeepsDeliveredTime", reports: []connectors.StatusReport{delivered, read}, want: tandem.DeliveryDelivered, deliveredAt: 1},
		{name: "OKLateSentIgnored", reports: []connectors.StatusReport{delivered, sent}, want: tandem.DeliveryDelivered, deliveredAt: 1},
		{name: "OKDuplicateDelivered", reports: []connectors.StatusReport{delivered, delivered}, want: tandem.DeliveryDelivered, deliveredAt: 1},
		{name: "OKProgressOnly", reports: []connectors.StatusReport{sent}, want: tandem.DeliverySent},
		{name: "ErrUndelivered", reports: []connectors.StatusReport{landline}, want: tandem.DeliveryFailed, wantErr: "landline (error 30006)"},
		{name: "ErrLateDeliveredAfterFailed", reports: []connectors.StatusReport{landline, delivered}, want: tandem.DeliveryFailed, wantErr: "30006"},
		{name: "ErrLateFailedAfterDelivered", reports: []connectors.StatusReport{delivered, landline}, want: tandem.DeliveryDelivered, deliveredAt: 1},
		{name: "ErrWindowNoHoldFuncFails", reports: []connectors.StatusReport{window}, want: tandem.DeliveryFailed, wantErr: "63016"},
		{name: "ErrWindowHeld", reports: []connectors.StatusReport{window, window}, hold: &hold{ok: true},
			want: tandem.DeliveryHeld, wantErr: "63016", asked: 1},
		{name: "ErrWindowNotHeldFails", reports: []connectors.StatusReport{window}, hold: &hold{ok: false},
			want: tandem.DeliveryFailed, wantErr: "63016", asked: 1},
		{name: "ErrWindowHoldFailsSendsAgain", reports: []connectors.StatusReport{window}, hold: &hold{err: errors.New("store down")},
			want: tandem.DeliveryPending, wantErr: "could not hold it: store down", asked: 1},
		{name: "ErrUnknownSid", reports: []connectors.StatusReport{{Channel: tandem.ChannelSMS, ProviderID: "SM404", Status: "delivered",
			Outcome: connectors.StatusDelivered}}, want: tandem.DeliverySent, wantStatusErr: tandem.ENOTFOUND},
		{name: "ErrOtherChannelsSid", reports: []connectors.StatusReport{{Channel: tandem.ChannelWhatsApp, ProviderID: "SM1", Status: "delivered",
			Outcome: connectors.StatusDelivered}}, want: tandem.DeliverySent, wantStatusErr: tandem.ENOTFOUND},
	}
	for _, b := range teststore.All {
		for _, tt := range tests {
			t.Run(b.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, b.Open)
				var mu sync.Mutex
				var asked int
				var statuses []string
				cfg := jobs.DeliveryConfig{Now: f.clock.Now, MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Minute },
					ObserveStatus: func(_ tandem.Channel, s string) { mu.Lock(); statuses = append(statuses, s); mu.Unlock() }}
				if tt.hold != nil {
					cfg.HoldFunc = func(context.Context, tandem.Delivery) (bool, error) {
						mu.Lock()
						asked++
						mu.Unlock()
						return tt.hold.ok, tt.hold.err
					}
				}
				var err error
				f.d, err = jobs.NewDeliverer(f.store, func(string, tandem.Channel) (connectors.Connector, bool) { return f.sms, true }, cfg)
				must(t, err)
				id := f.enqueue(t, "demo", "your order shipped")[0]
				f.deliver(t)
				if d := f.find(t, id); d.Status != tandem.DeliverySent || d.ProviderID != "SM1" {
					t.Fatalf("before reports, delivery = %+v; want sent as SM1", d)
				}
				var times []time.Time
				for i, r := range tt.reports {
					f.clock.Add(time.Minute)
					times = append(times, f.clock.Now())
					err := f.d.HandleStatus(context.Background(), r)
					if i == len(tt.reports)-1 && tt.wantStatusErr != "" {
						if tandem.ErrorCode(err) != tt.wantStatusErr {
							t.Fatalf("HandleStatus = %v, want %s", err, tt.wantStatusErr)
						}
						continue
					}
					must(t, err)
				}
				d := f.find(t, id)
				if d.Status != tt.want || !strings.Contains(d.LastError, tt.wantErr) {
					t.Errorf("delivery = %s (%q), want %s with %q", d.Status, d.LastError, tt.want, tt.wantErr)
				}
				var wantAt time.Time
				if tt.deliveredAt > 0 {
					wantAt = times[tt.deliveredAt-1].Truncate(time.Microsecond) // as stored
				}
				if !d.DeliveredAt.Equal(wantAt) {
					t.Errorf("delivered at %s, want %s", d.DeliveredAt, wantAt)
				}
				if asked != tt.asked {
					t.Errorf("HoldFunc asked %d times, want %d", asked, tt.asked)
				}
				if len(statuses) != len(tt.reports) {
					t.Errorf("observed statuses %v, want one per report", statuses)
				}
				if tt.want == tandem.DeliveryPending {
					// Sent again once due: the customer may have written meanwhile.
					f.clock.Add(time.Hour)
					f.deliver(t)
					if d := f.find(t, id); d.Status != tandem.DeliverySent || d.ProviderID != "SM2" {
						t.Errorf("after the retry, delivery = %s as %s; want sent as SM2", d.Status, d.ProviderID)
					}
					// A late report about the first send names no delivery now, and changes nothing.
					if err := f.d.HandleStatus(context.Background(), landline); tandem.ErrorCode(err) != tandem.ENOTFOUND {
						t.Errorf("report on the first send = %v, want ENOTFOUND", err)
					}
					if d := f.find(t, id); d.Status != tandem.DeliverySent {
						t.Errorf("a report on the first send moved the second to %s", d.Status)
					}
				}
			})
		}
	}
}
