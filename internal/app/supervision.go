package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/web/inbox"
)

// newEscalations builds the escalator that turns (strongly negative messages) and the
// escalation worker (tickets that waited too long) share, telling the desks and counting
// escalations in reg as tandem_tickets_escalated_total{reason}.
func (a *App) newEscalations(reg prometheus.Registerer) (*handoff.Escalator, *jobs.Escalations) {
	escalated := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_tickets_escalated_total",
		Help: "Handoff tickets escalated to supervisors, by reason (wait: queued too long; sentiment: a strongly negative message)."},
		[]string{"reason"})
	for _, r := range []string{handoff.EscalationWait, handoff.EscalationSentiment} {
		escalated.WithLabelValues(r) // both series exist from the start, at 0
	}
	reg.MustRegister(escalated)
	// The inbox's own pages learn of an escalation through its desk's events.
	watchers := append(a.ticketWatchers(), inbox.NewDesk(a.bus, time.Now))
	esc := &handoff.Escalator{Store: a.store, Desks: watchers, Logger: a.logger,
		Observe: func(reason string) { escalated.WithLabelValues(reason).Inc() }}
	return esc, jobs.NewEscalations(a.store, esc, jobs.EscalationConfig{Waits: a.escalationWaits,
		Poll: a.cfg.Escalation.Poll, Logger: a.logger})
}

// escalationWaits are the loaded bots' handoff.escalate_after, read on every pass of the
// worker so reloaded bots take effect.
func (a *App) escalationWaits() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, b := range a.registry.List() {
		out[b.Def.ID] = b.Def.Handoff.EscalateAfter
	}
	return out
}

// queues are the handoff queues agents can transfer tickets to: the loaded bots'.
func (a *App) queues() []string {
	var out []string
	for _, b := range a.registry.List() {
		out = append(out, b.Def.Handoff.Queue)
	}
	return out
}
