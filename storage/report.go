package storage

import (
	"context"
	"time"

	"github.com/tandemhq/tandem"
)

// ReportStore computes the supervisors' dashboard figures where the rows are: each method
// is one or a few aggregate queries, never a load of the rows it summarises. Periods start
// at since (inclusive) and run to the present.
type ReportStore interface {
	// QueueStats summarises tickets per queue, ordered by queue: those waiting and held
	// at now, the oldest wait, and the tickets opened, closed and claimed since. Queues
	// with nothing to report are left out.
	QueueStats(ctx context.Context, since, now time.Time) ([]QueueStats, error)
	// CSATStats sums the ratings given since, per queue and per agent.
	CSATStats(ctx context.Context, since time.Time) (*CSATStats, error)
	// ConversationStats counts the conversations started since and those of them that had
	// a handoff ticket (the rest were contained by the bot).
	ConversationStats(ctx context.Context, since time.Time) (ConversationStats, error)
	// CountAudit counts the audit entries with action appended since.
	CountAudit(ctx context.Context, action string, since time.Time) (int, error)
	// AnswerFeedbackStats counts the customers' votes on knowledge answers given since
	// (see FeedbackStore).
	AnswerFeedbackStats(ctx context.Context, since time.Time) (AnswerFeedbackStats, error)
}

// QueueStats is one queue's line of the dashboard.
type QueueStats struct {
	Queue   string
	Waiting int // queued now
	Claimed int // held by an agent now
	// OldestWait is how long the oldest queued ticket has waited at now (0: none waits).
	OldestWait time.Duration
	Opened     int // tickets created since
	Closed     int // tickets closed since (given back to the bot ones excluded)
	// MedianClaim is the median time from creation to claim of the tickets claimed since
	// (0 when none was).
	MedianClaim time.Duration
}

// CSATStats are ratings summed per queue and per agent.
type CSATStats struct {
	ByQueue []CSATGroup // ordered by queue
	ByAgent []CSATGroup // ordered by agent id
}

// CSATGroup sums the ratings of one queue or agent.
type CSATGroup struct {
	Key   string // the queue or agent id
	Count int
	Sum   int // of the scores; Sum/Count is the average
}

// Average is the mean score, 0 when there is none.
func (g CSATGroup) Average() float64 {
	if g.Count == 0 {
		return 0
	}
	return float64(g.Sum) / float64(g.Count)
}

// ConversationStats counts conversations started in a period.
type ConversationStats struct {
	Started    int
	WithTicket int
}

// AtCapacity is ClaimTicket's refusal (ECONFLICT) for an agent who holds capacity claimed
// tickets already; its message is for the agent. UpdateTicket with IfAgentBelowCapacity
// refuses with it too (the transferring desk words it for the sender).
func AtCapacity(held, capacity int) error {
	return tandem.Errorf(tandem.ECONFLICT, "you are at capacity: holding %d conversations of %d; close, give back or transfer one first", held, capacity)
}

// LastAdmin is UpdateAgent's refusal (ECONFLICT) to demote the only admin, whose email it
// names; its message is for the admin page and the CLI.
func LastAdmin(email string) error {
	return tandem.Errorf(tandem.ECONFLICT, "%s is the last admin: make someone else an admin first", email)
}
