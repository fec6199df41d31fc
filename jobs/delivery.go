// Package jobs runs Tandem's background work on the store. The delivery worker drains the
// outbox (storage.OutboxStore) through the channel connectors: every replica runs one, and
// the store's leases make sure a delivery is sent by one worker at a time. The escalation
// worker (escalation.go) escalates handoff tickets that waited queued too long; every
// replica runs one too, and the store escalates a ticket at most once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/storage"
)

// DeliveryStore is the part of the store the delivery worker uses.
type DeliveryStore interface {
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]tandem.Delivery, error)
	UpdateDelivery(ctx context.Context, messageID string, upd storage.DeliveryUpdate) (*tandem.Delivery, error)
}

// ConnectorFunc returns the connector that sends for a bot on a channel.
type ConnectorFunc func(botID string, ch tandem.Channel) (connectors.Connector, bool)

// DeliveryConfig tunes the delivery worker. Zero fields take the defaults.
type DeliveryConfig struct {
	// Poll is how often the worker looks for due deliveries when nothing woke it (for
	// deliveries written by other replicas, and retries). Default 1s.
	Poll time.Duration
	// Batch is how many deliveries one claim takes. Default 32.
	Batch int
	// Concurrency bounds the recipients sent to at once. Default 8.
	Concurrency int
	// SendTimeout bounds one Send. Default 15s.
	SendTimeout time.Duration
	// Lease is how long a claimed delivery stays with this worker before another may take
	// it (a worker that died). It must exceed SendTimeout. Default 1m.
	Lease time.Duration
	// MaxAttempts fails a delivery after this many failed sends. Default 8.
	MaxAttempts int
	// Backoff is the wait after the n-th failed send (n from 1). Default: 2s doubling up
	// to 10m, with ±20% jitter.
	Backoff func(n int) time.Duration
	// Observe, when set, is told each attempt's outcome (OutcomeSent, ...) and how long
	// the provider took (zero when no send was made): the app turns it into metrics.
	Observe func(ch tandem.Channel, outcome string, took time.Duration)
	// HoldFunc, when set, decides about a delivery the channel refused because its window
	// for free-form messages is closed (connectors.ErrOutsideWindow): true holds it
	// (tandem.DeliveryHeld) until the customer writes again, having done what the
	// customer needs to hear (the app sends the bot's reopen template), false fails it as
	// undeliverable. An error makes the worker try the delivery again later, until
	// MaxAttempts. Without it such deliveries fail.
	HoldFunc func(ctx context.Context, dl tandem.Delivery) (bool, error)
	Now      func() time.Time
	Logger   *slog.Logger
}

// Outcomes of a delivery attempt, as DeliveryConfig.Observe reports them.
const (
	OutcomeSent    = "sent"    // the provider accepted it
	OutcomeRetry   = "retry"   // it failed and will be tried again
	OutcomeSnoozed = "snoozed" // the provider asked to retry later
	OutcomeFailed  = "failed"  // it never will be delivered
	OutcomeHeld    = "held"    // it waits for the customer to write again
)

// WithDefaults returns c with unset fields set to their documented defaults.
func (c DeliveryConfig) WithDefaults() DeliveryConfig {
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 15 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Backoff == nil {
		c.Backoff = Backoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observe == nil {
		c.Observe = func(tandem.Channel, string, time.Duration) {}
	}
	return c
}

// Validate reports a configuration the worker cannot run with.
func (c DeliveryConfig) Validate() error {
	if c.Lease <= c.SendTimeout {
		return fmt.Errorf("delivery lease (%s) must exceed the send timeout (%s)", c.Lease, c.SendTimeout)
	}
	return nil
}

// Backoff is the default wait after the n-th failed send: 2s doubling up to 10m, ±20%.
func Backoff(n int) time.Duration {
	d := 2 * time.Second << min(max(n-1, 0), 9)
	d = min(d, 10*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Deliverer is the delivery worker.
type Deliverer struct {
	store     DeliveryStore
	connector ConnectorFunc
	cfg       DeliveryConfig
	wake      chan struct{}
}

// NewDeliverer returns a worker sending the store's due deliveries through the connectors
// that connector finds.
func NewDeliverer(store DeliveryStore, connector ConnectorFunc, cfg DeliveryConfig) (*Deliverer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Deliverer{store: store, connector: connector, cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// Wake makes a running worker look for due deliveries now. It never blocks.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then returns nil once the sends in progress finish.
func (d *Deliverer) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		n, err := d.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("delivery worker: claim failed", "error", err)
		}
		if n == d.cfg.Batch && err == nil {
			continue // more may be due
		}
		t.Reset(d.cfg.Poll)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-t.C:
		}
	}
}

// DeliverDue claims one batch of due deliveries, sends them and records each outcome. It
// returns how many it claimed. Deliveries to one recipient are sent in order, one at a
// time; when one fails, the recipient's later ones wait with it, so a customer never
// receives the second reply of a turn before the first.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	ds, err := d.store.ClaimDeliveries(ctx, d.cfg.Now(), d.cfg.Batch, d.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("deliver: %w", err)
	}
	// ds is in message order (ids are time-ordered), so each group keeps its order.
	type key struct {
		ch tandem.Channel
		to string
	}
	var order []key
	groups := map[key][]tandem.Delivery{}
	for _, dl := range ds {
		k := key{dl.Channel, dl.To}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], dl)
	}
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d.sendGroup(ctx, groups[k])
		})
	}
	wg.Wait()
	return len(ds), nil
}

// sendGroup sends one recipient's deliveries in order. When ctx ends (shutdown), the send
// in progress finishes and is recorded — cancelling a request the provider may already have
// accepted would send it twice — and the rest are handed back, due at once, for the next
// worker rather than held until their lease ends.
func (d *Deliverer) sendGroup(ctx context.Context, group []tandem.Delivery) {
	for i, dl := range group {
		if ctx.Err() != nil {
			d.release(group[i:], d.cfg.Now())
			return
		}
		next, ok := d.send(context.WithoutCancel(ctx), dl)
		if ok {
			continue
		}
		// The rest wait for this one.
		d.release(group[i+1:], next)
		return
	}
}

// release hands claimed deliveries back, due at next; they were not tried, so the claim's
// attempt is undone.
func (d *Deliverer) release(ds []tandem.Delivery, next time.Time) {
	for _, dl := range ds {
		d.update(context.Background(), dl, storage.DeliveryUpdate{NextAt: &next, Attempts: ptr(dl.Attempts - 1)})
	}
}

// send makes one attempt and records its outcome. It returns false, with when the
// delivery is next due, unless the delivery is finished (sent or failed for good). ctx
// does not end on shutdown: the attempt is bounded by SendTimeout.
func (d *Deliverer) send(ctx context.Context, dl tandem.Delivery) (time.Time, bool) {
	log := d.cfg.Logger.With("message_id", dl.MessageID, "bot", dl.BotID, "channel", dl.Channel, "attempt", dl.Attempts)
	c, ok := d.connector(dl.BotID, dl.Channel)
	if !ok {
		log.Error("delivery failed: no connector for the bot on this channel")
		d.fail(ctx, dl, fmt.Sprintf("no %s connector is configured for bot %s", dl.Channel, dl.BotID))
		d.cfg.Observe(dl.Channel, OutcomeFailed, 0)
		return time.Time{}, true
	}
	sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	start := time.Now()
	id, err := c.Send(sctx, connectors.Outgoing{IdempotencyKey: dl.MessageID, BotID: dl.BotID, To: dl.To, Reply: dl.Reply})
	took := time.Since(start)
	cancel()
	if err == nil {
		d.cfg.Observe(dl.Channel, OutcomeSent, took)
		sent := tandem.DeliverySent
		d.update(ctx, dl, storage.DeliveryUpdate{Status: &sent, ProviderID: &id, LastError: ptr("")})
		log.Debug("delivered", "provider_id", id)
		return time.Time{}, true
	}
	msg := err.Error()
	if after, ok := connectors.RetryAfter(err); ok {
		// The provider asked to slow down: not the delivery's fault, so not an attempt.
		next := d.cfg.Now().Add(after)
		d.update(ctx, dl, storage.DeliveryUpdate{NextAt: &next, Attempts: ptr(dl.Attempts - 1), LastError: &msg})
		d.cfg.Observe(dl.Channel, OutcomeSnoozed, took)
		log.Info("delivery snoozed: provider asks to retry later", "retry_after", after)
		return next, false
	}
	if errors.Is(err, connectors.ErrOutsideWindow) && d.cfg.HoldFunc != nil {
		hold, herr := d.cfg.HoldFunc(ctx, dl)
		if herr != nil {
			err = fmt.Errorf("%w (and could not hold it: %w)", err, herr)
			msg = err.Error()
		}
		switch {
		case herr != nil && dl.Attempts < d.cfg.MaxAttempts:
			next := d.cfg.Now().Add(d.cfg.Backoff(dl.Attempts))
			d.update(ctx, dl, storage.DeliveryUpdate{NextAt: &next, LastError: &msg})
			d.cfg.Observe(dl.Channel, OutcomeRetry, took)
			log.Warn("delivery outside the channel's window could not be held; will retry", "error", err, "next_at", next)
			return next, false
		case herr == nil && hold:
			held := tandem.DeliveryHeld
			d.update(ctx, dl, storage.DeliveryUpdate{Status: &held, LastError: &msg})
			d.cfg.Observe(dl.Channel, OutcomeHeld, took)
			log.Info("delivery held until the customer writes again", "error", err)
			return time.Time{}, true
		}
	}
	if tandem.ErrorCode(err) == tandem.EINVALID || dl.Attempts >= d.cfg.MaxAttempts {
		log.Error("delivery failed", "error", err)
		d.fail(ctx, dl, msg)
		d.cfg.Observe(dl.Channel, OutcomeFailed, took)
		return time.Time{}, true
	}
	next := d.cfg.Now().Add(d.cfg.Backoff(dl.Attempts))
	d.update(ctx, dl, storage.DeliveryUpdate{NextAt: &next, LastError: &msg})
	d.cfg.Observe(dl.Channel, OutcomeRetry, took)
	log.Warn("delivery failed; will retry", "error", err, "next_at", next)
	return next, false
}

func (d *Deliverer) fail(ctx context.Context, dl tandem.Delivery, msg string) {
	failed := tandem.DeliveryFailed
	d.update(ctx, dl, storage.DeliveryUpdate{Status: &failed, LastError: &msg})
}

// update records an outcome. If that fails, the lease still ends and the delivery is tried
// again: at least once, never lost.
func (d *Deliverer) update(ctx context.Context, dl tandem.Delivery, upd storage.DeliveryUpdate) {
	// The outcome is recorded even when ctx ended during the send.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := d.store.UpdateDelivery(ctx, dl.MessageID, upd)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		// Erased with its customer (or deleted by retention) while it was being sent.
		d.cfg.Logger.Info("delivery outcome not recorded: the delivery is gone", "message_id", dl.MessageID)
	case err != nil:
		d.cfg.Logger.Error("delivery outcome not recorded; it will be tried again when its lease ends",
			"message_id", dl.MessageID, "error", err)
	}
}

func ptr[T any](v T) *T { return &v }
