package sqlite

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// insertCSAT stores a rating unless its ticket has one (storage.TurnRecord.CSAT).
func (s *Store) insertCSAT(ctx context.Context, tx *sql.Tx, r *tandem.CSATResponse) error {
	if r.At.IsZero() {
		r.At = s.now()
	}
	r.At = dbTime(r.At)
	_, err := tx.ExecContext(ctx, `INSERT INTO csat_responses (ticket_id, conversation_id, bot_id, queue, agent_id, score, at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO NOTHING`,
		r.TicketID, r.ConversationID, r.BotID, r.Queue, r.AgentID, r.Score, r.At.UnixMicro())
	return err
}

// queueStatsSQL summarises tickets per queue ($1 since, $2 now, in microseconds). The
// median time to claim is the mean of the one or two middle durations, by row number.
const queueStatsSQL = `WITH q AS (
	SELECT queue,
		sum(status = 'queued') AS waiting,
		sum(status = 'claimed') AS claimed,
		min(CASE WHEN status = 'queued' THEN created_at END) AS oldest,
		sum(created_at >= ?1) AS opened,
		sum(status = 'closed' AND closed_at >= ?1) AS closed
	FROM tickets
	WHERE status IN ('queued', 'claimed') OR created_at >= ?1 OR closed_at >= ?1
	GROUP BY queue
), c AS (
	SELECT queue, claimed_at - created_at AS d,
		row_number() OVER (PARTITION BY queue ORDER BY claimed_at - created_at) AS rn,
		count(*) OVER (PARTITION BY queue) AS n
	FROM tickets WHERE claimed_at >= ?1
), m AS (
	SELECT queue, avg(d) AS median FROM c WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY queue
)
SELECT q.queue, q.waiting, q.claimed, coalesce(?2 - q.oldest, 0), q.opened, q.closed, coalesce(m.median, 0)
FROM q LEFT JOIN m ON m.queue = q.queue ORDER BY q.queue`

// QueueStats summarises tickets per queue (see storage.ReportStore).
func (s *Store) QueueStats(ctx context.Context, since, now time.Time) ([]storage.QueueStats, error) {
	rows, err := s.r.QueryContext(ctx, queueStatsSQL, dbTime(since).UnixMicro(), dbTime(now).UnixMicro())
	if err != nil {
		return nil, translate("queue stats", err)
	}
	defer rows.Close()
	out := []storage.QueueStats{}
	for rows.Next() {
		var q storage.QueueStats
		var oldest int64
		var median float64
		if err := rows.Scan(&q.Queue, &q.Waiting, &q.Claimed, &oldest, &q.Opened, &q.Closed, &median); err != nil {
			return nil, translate("queue stats", err)
		}
		q.OldestWait = max(0, time.Duration(oldest)*time.Microsecond)
		q.MedianClaim = time.Duration(math.Round(median)) * time.Microsecond
		out = append(out, q)
	}
	return out, translate("queue stats", rows.Err())
}

// CSATStats sums the ratings given since per queue and per agent.
func (s *Store) CSATStats(ctx context.Context, since time.Time) (*storage.CSATStats, error) {
	var st storage.CSATStats
	var err error
	at := dbTime(since).UnixMicro()
	if st.ByQueue, err = s.csatGroups(ctx, `queue`, at); err != nil {
		return nil, translate("csat stats", err)
	}
	if st.ByAgent, err = s.csatGroups(ctx, `agent_id`, at); err != nil {
		return nil, translate("csat stats", err)
	}
	return &st, nil
}

// csatGroups sums ratings at or after at grouped by col, a column name (never input).
func (s *Store) csatGroups(ctx context.Context, col string, at int64) ([]storage.CSATGroup, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+col+`, count(*), sum(score) FROM csat_responses WHERE at >= ? GROUP BY `+col+` ORDER BY `+col, at)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []storage.CSATGroup{}
	for rows.Next() {
		var g storage.CSATGroup
		if err := rows.Scan(&g.Key, &g.Count, &g.Sum); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ConversationStats counts the conversations started since and those that had a ticket
// (a ticket is never older than its conversation, so only tickets created since count).
func (s *Store) ConversationStats(ctx context.Context, since time.Time) (storage.ConversationStats, error) {
	var st storage.ConversationStats
	at := dbTime(since).UnixMicro()
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM conversations WHERE created_at >= ?1),
		(SELECT count(DISTINCT t.conversation_id) FROM tickets t JOIN conversations c ON c.id = t.conversation_id
			WHERE t.created_at >= ?1 AND c.created_at >= ?1)`, at).Scan(&st.Started, &st.WithTicket)
	return st, translate("conversation stats", err)
}

// CountAudit counts the audit entries with action appended since.
func (s *Store) CountAudit(ctx context.Context, action string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = ? AND at >= ?`, action, dbTime(since).UnixMicro()).Scan(&n)
	return n, translate("count audit", err)
}
