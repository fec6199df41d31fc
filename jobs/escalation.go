package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// EscalationStore is the part of the store the escalation worker reads.
type EscalationStore interface {
	ListTickets(ctx context.Context, f storage.TicketFilter) ([]tandem.Ticket, error)
}

// Escalator escalates one ticket at most once; *handoff.Escalator satisfies it. A ticket
// escalated before, or no longer active, returns ECONFLICT.
type Escalator interface {
	Escalate(ctx context.Context, ticketID, kind, reason string, now time.Time) (*tandem.Ticket, error)
}

// EscalationConfig tunes the escalation worker. Zero fields take the defaults; Waits is
// required.
type EscalationConfig struct {
	// Waits returns, per bot id, how long the bot's tickets may wait queued before they
	// are escalated (the bots' handoff.escalate_after); bots missing or at 0 are never
	// escalated for waiting. It is called on every pass, so reloaded bots take effect.
	Waits func() map[string]time.Duration
	// Poll is how often the worker looks for tickets that waited too long. Default 30s.
	Poll time.Duration
	// Batch bounds the tickets of one bot escalated in one pass. Default 100.
	Batch int
	// Now returns the current time. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// WithDefaults returns c with unset fields set to their documented defaults.
func (c EscalationConfig) WithDefaults() EscalationConfig {
	if c.Poll <= 0 {
		c.Poll = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Escalations is the worker that escalates tickets waiting queued longer than their bot
// allows. Every replica runs one: the store escalates a ticket at most once, so replicas
// racing for the same ticket write one escalation and one audit entry between them.
type Escalations struct {
	store EscalationStore
	esc   Escalator
	cfg   EscalationConfig
}

// NewEscalations returns the escalation worker. It panics without cfg.Waits (a wiring
// error).
func NewEscalations(store EscalationStore, esc Escalator, cfg EscalationConfig) *Escalations {
	if cfg.Waits == nil {
		panic("jobs.NewEscalations: EscalationConfig.Waits is required")
	}
	return &Escalations{store: store, esc: esc, cfg: cfg.WithDefaults()}
}

// Run escalates every Poll until ctx is done, then returns nil.
func (w *Escalations) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := w.EscalateDue(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Error("escalation worker: pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// EscalateDue escalates the queued tickets that have waited longer than their bot's limit
// and were not escalated yet, oldest first, at most Batch per bot. It returns how many
// this call escalated; those another replica escalated first are skipped.
func (w *Escalations) EscalateDue(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	waits := w.cfg.Waits()
	done := 0
	for _, bot := range slices.Sorted(maps.Keys(waits)) {
		limit := waits[bot]
		if limit <= 0 {
			continue
		}
		notEscalated := false
		ts, err := w.store.ListTickets(ctx, storage.TicketFilter{BotID: bot, Status: tandem.TicketQueued, Escalated: &notEscalated,
			CreatedBefore: now.Add(-limit), Limit: w.cfg.Batch})
		if err != nil {
			return done, fmt.Errorf("escalate: %w", err)
		}
		for _, t := range ts {
			reason := fmt.Sprintf("waited %s in queue %s (limit %s)", waited(now.Sub(t.CreatedAt)), t.Queue, limit)
			_, err := w.esc.Escalate(ctx, t.ID, handoff.EscalationWait, reason, now)
			switch tandem.ErrorCode(err) {
			case "":
				done++
				w.cfg.Logger.Info("ticket escalated: waited too long", "ticket_id", t.ID, "bot", bot, "queue", t.Queue)
			case tandem.ECONFLICT: // another replica was first, or an agent claimed it meanwhile
			default:
				return done, err
			}
		}
	}
	return done, nil
}

// waited rounds a wait for people to read: to the minute past ten minutes, else the second.
func waited(d time.Duration) time.Duration {
	if d >= 10*time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
