package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tandemhq/tandem/nlu/pii"
)

// RetentionStore is the part of the store the retention worker uses; storage.Store
// satisfies it.
type RetentionStore interface {
	DeleteClosedConversations(ctx context.Context, before time.Time, limit int) (int, error)
	RedactMessages(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error)
	RedactNotes(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error)
}

// Kinds of data the retention worker removes, as reported to RetentionConfig.Observe.
const (
	RetentionConversations    = "conversations"     // closed conversations deleted
	RetentionRedactedMessages = "redacted_messages" // messages whose personal data was redacted
	RetentionRedactedNotes    = "redacted_notes"    // agents' internal notes redacted likewise
)

// RetentionConfig tunes the retention worker. Zero fields take the defaults; with both ages
// at 0 (the default) the worker does nothing.
type RetentionConfig struct {
	// ClosedConversations deletes closed conversations whose last activity is older than
	// this, with their messages, deliveries, tickets and CSAT ratings. 0 keeps them.
	ClosedConversations time.Duration
	// RedactAfter replaces the personal data in the text of messages older than this with
	// Redact's output. 0 keeps messages as written.
	RedactAfter time.Duration
	// Redact redacts a message text. Default: every kind of personal data package pii
	// finds (cards, e-mails, phones, IBANs, national ids).
	Redact func(string) string
	// Poll is how often the worker looks for old data. Default 1h.
	Poll time.Duration
	// Batch bounds the rows of one transaction, so a large backlog is worked through in
	// short transactions that never hold the store for long. Default 500.
	Batch int
	// Observe, when set, is told how many rows of a kind each batch removed or redacted.
	Observe func(kind string, n int)
	// Now returns the current time. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// WithDefaults returns c with unset fields set to their documented defaults.
func (c RetentionConfig) WithDefaults() RetentionConfig {
	if c.Redact == nil {
		c.Redact = func(s string) string { r, _ := pii.Redact(s); return r }
	}
	if c.Poll <= 0 {
		c.Poll = time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Observe == nil {
		c.Observe = func(string, int) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Retention is the worker that deletes old closed conversations and redacts old messages.
// Every replica runs one: the store hands concurrent batches disjoint rows, and a row
// done once is never done again.
type Retention struct {
	store RetentionStore
	cfg   RetentionConfig
}

// NewRetention returns the retention worker.
func NewRetention(store RetentionStore, cfg RetentionConfig) *Retention {
	return &Retention{store: store, cfg: cfg.WithDefaults()}
}

// Enabled reports whether the worker has anything to do.
func (w *Retention) Enabled() bool { return w.cfg.ClosedConversations > 0 || w.cfg.RedactAfter > 0 }

// Run sweeps every Poll until ctx is done, then returns nil. It returns at once when
// neither age is set.
func (w *Retention) Run(ctx context.Context) error {
	if !w.Enabled() {
		return nil
	}
	w.cfg.Logger.Info("retention worker started", "closed_conversations", w.cfg.ClosedConversations,
		"redact_after", w.cfg.RedactAfter, "poll", w.cfg.Poll)
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Error("retention worker: pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RetentionResult counts what one sweep did.
type RetentionResult struct {
	Conversations    int // closed conversations deleted
	RedactedMessages int
	RedactedNotes    int
}

// Sweep deletes the closed conversations inactive for longer than ClosedConversations,
// then redacts the messages and internal notes older than RedactAfter, a Batch per transaction until none is
// left (or ctx ends). It returns what it did, also when it fails part way.
func (w *Retention) Sweep(ctx context.Context) (RetentionResult, error) {
	var res RetentionResult
	now := w.cfg.Now()
	var errs []error
	if age := w.cfg.ClosedConversations; age > 0 {
		n, err := w.batches(ctx, RetentionConversations, func() (int, error) {
			return w.store.DeleteClosedConversations(ctx, now.Add(-age), w.cfg.Batch)
		})
		res.Conversations = n
		errs = append(errs, err)
	}
	if age := w.cfg.RedactAfter; age > 0 {
		n, err := w.batches(ctx, RetentionRedactedMessages, func() (int, error) {
			return w.store.RedactMessages(ctx, now.Add(-age), w.cfg.Batch, w.cfg.Redact)
		})
		res.RedactedMessages = n
		errs = append(errs, err)
		n, err = w.batches(ctx, RetentionRedactedNotes, func() (int, error) {
			return w.store.RedactNotes(ctx, now.Add(-age), w.cfg.Batch, w.cfg.Redact)
		})
		res.RedactedNotes = n
		errs = append(errs, err)
	}
	if res != (RetentionResult{}) {
		w.cfg.Logger.Info("retention: old data removed", "conversations_deleted", res.Conversations,
			"messages_redacted", res.RedactedMessages, "notes_redacted", res.RedactedNotes)
	}
	return res, errors.Join(errs...)
}

// batches runs batch until it returns fewer rows than Batch and returns the sum.
func (w *Retention) batches(ctx context.Context, kind string, batch func() (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := batch()
		if err != nil {
			return total, fmt.Errorf("retention %s: %w", kind, err)
		}
		if n > 0 {
			w.cfg.Observe(kind, n)
		}
		total += n
		if n < w.cfg.Batch {
			return total, nil
		}
	}
}
