package bots

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
)

// Escalator escalates a ticket to supervisors at most once; *handoff.Escalator satisfies
// it. A ticket escalated before returns ECONFLICT.
type Escalator interface {
	Escalate(ctx context.Context, ticketID, kind, reason string, now time.Time) (*tandem.Ticket, error)
}

// WithEscalator escalates the ticket of a customer who writes a strongly negative
// message while a human has their conversation (the bot's handoff.escalate_below).
// Default: a handoff.Escalator over the engine's store that tells no desk and counts
// nothing.
func WithEscalator(x Escalator) Option { return func(e *Engine) { e.escalate = x } }

// escalation says why a message relayed to a human escalates the conversation's ticket:
// its sentiment is at or below the bot's escalate_below; "" when it does not. Asking for a
// human again does not count: the sentiment model, learned from complaints, scores "I want
// to talk to an agent" about -0.9, and a customer repeating it while waiting is what the
// wait limit (escalate_after) is for.
func escalation(t *turn) string {
	if in, ok := t.def.Intent(t.ann.Intent.Name); ok && in.Handoff {
		return ""
	}
	th := t.def.Handoff.EscalateBelow
	if score := t.ann.Sentiment.Score; th < 0 && score <= th {
		return fmt.Sprintf("the customer wrote a strongly negative message (sentiment %.2f, threshold %.2f)", score, th)
	}
	return ""
}

// escalateTicket escalates the conversation's active ticket after the turn that relayed
// the customer's message is stored: the message is what the agents will read. Escalation
// is at most once per ticket, so a second angry message changes nothing; a failure is
// logged and does not fail the turn, whose message is stored already.
func (e *Engine) escalateTicket(ctx context.Context, conversationID, reason string) {
	t, err := e.store.FindActiveTicket(ctx, conversationID)
	if err == nil {
		_, err = e.escalate.Escalate(ctx, t.ID, handoff.EscalationSentiment, reason, e.now())
	}
	switch tandem.ErrorCode(err) {
	case "", tandem.ENOTFOUND, tandem.ECONFLICT: // done, no ticket, escalated before
	default:
		e.logger.Warn("escalate a ticket after a negative message", "conversation_id", conversationID, "error", err)
	}
}
