package postgres

import (
	"context"
	"math"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// insertCSATSQL stores a rating unless its ticket has one (storage.TurnRecord.CSAT).
const insertCSATSQL = `INSERT INTO csat_responses (ticket_id, conversation_id, bot_id, queue, agent_id, score, at)
	VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ticket_id) DO NOTHING`

func (s *Store) csatArgs(r *tandem.CSATResponse) []any {
	if r.At.IsZero() {
		r.At = s.now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	return []any{r.TicketID, r.ConversationID, r.BotID, r.Queue, r.AgentID, r.Score, r.At}
}

// queueStatsSQL summarises tickets per queue ($1 since, $2 now); durations in seconds.
const queueStatsSQL = `WITH q AS (
	SELECT queue,
		count(*) FILTER (WHERE status = 'queued') AS waiting,
		count(*) FILTER (WHERE status = 'claimed') AS claimed,
		min(created_at) FILTER (WHERE status = 'queued') AS oldest,
		count(*) FILTER (WHERE created_at >= $1) AS opened,
		count(*) FILTER (WHERE status = 'closed' AND closed_at >= $1) AS closed
	FROM tickets
	WHERE status IN ('queued', 'claimed') OR created_at >= $1 OR closed_at >= $1
	GROUP BY queue
), m AS (
	SELECT queue, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM claimed_at - created_at)) AS median
	FROM tickets WHERE claimed_at >= $1 GROUP BY queue
)
SELECT q.queue, q.waiting, q.claimed, coalesce(extract(epoch FROM $2 - q.oldest), 0)::float8, q.opened, q.closed,
	coalesce(m.median, 0)::float8
FROM q LEFT JOIN m ON m.queue = q.queue ORDER BY q.queue`

// QueueStats summarises tickets per queue (see storage.ReportStore).
func (s *Store) QueueStats(ctx context.Context, since, now time.Time) ([]storage.QueueStats, error) {
	rows, err := s.pool.Query(ctx, queueStatsSQL, since, now)
	if err != nil {
		return nil, translate("queue stats", err)
	}
	defer rows.Close()
	out := []storage.QueueStats{}
	for rows.Next() {
		var q storage.QueueStats
		var oldest, median float64
		if err := rows.Scan(&q.Queue, &q.Waiting, &q.Claimed, &oldest, &q.Opened, &q.Closed, &median); err != nil {
			return nil, translate("queue stats", err)
		}
		q.OldestWait = max(0, seconds(oldest))
		q.MedianClaim = seconds(median)
		out = append(out, q)
	}
	return out, translate("queue stats", rows.Err())
}

// seconds converts seconds to a duration rounded to the microsecond, PostgreSQL's precision.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1e6)) * time.Microsecond
}

// CSATStats sums the ratings given since per queue and per agent, in one statement.
func (s *Store) CSATStats(ctx context.Context, since time.Time) (*storage.CSATStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT GROUPING(agent_id) = 1, coalesce(queue, ''), coalesce(agent_id, ''), count(*), sum(score)
		FROM csat_responses WHERE at >= $1
		GROUP BY GROUPING SETS ((queue), (agent_id)) ORDER BY 1 DESC, 2, 3`, since)
	if err != nil {
		return nil, translate("csat stats", err)
	}
	defer rows.Close()
	st := storage.CSATStats{ByQueue: []storage.CSATGroup{}, ByAgent: []storage.CSATGroup{}}
	for rows.Next() {
		var byQueue bool
		var queue, agent string
		var g storage.CSATGroup
		if err := rows.Scan(&byQueue, &queue, &agent, &g.Count, &g.Sum); err != nil {
			return nil, translate("csat stats", err)
		}
		if byQueue {
			g.Key = queue
			st.ByQueue = append(st.ByQueue, g)
		} else {
			g.Key = agent
			st.ByAgent = append(st.ByAgent, g)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, translate("csat stats", err)
	}
	return &st, nil
}

// ConversationStats counts the conversations started since and those that had a ticket
// (a ticket is never older than its conversation, so only tickets created since count).
func (s *Store) ConversationStats(ctx context.Context, since time.Time) (storage.ConversationStats, error) {
	var st storage.ConversationStats
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations WHERE created_at >= $1),
		(SELECT count(DISTINCT t.conversation_id) FROM tickets t JOIN conversations c ON c.id = t.conversation_id
			WHERE t.created_at >= $1 AND c.created_at >= $1)`, since).Scan(&st.Started, &st.WithTicket)
	return st, translate("conversation stats", err)
}

// CountAudit counts the audit entries with action appended since.
func (s *Store) CountAudit(ctx context.Context, action string, since time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND at >= $2`, action, since).Scan(&n)
	return n, translate("count audit", err)
}
