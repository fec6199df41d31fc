package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// After a bulk ingestion two things make knowledge searches slow until autovacuum comes
// round (a minute or more later): the planner's statistics still describe the empty
// tables, so it joins documents first and computes every chunk's distance (~300 ms at
// 10,000 chunks); and the GIN index holds the new chunks in its unsorted pending list,
// which every full-text query scans (~5 ms). Once knowledge writes pause, the store
// analyzes the knowledge tables and flushes the pending list, and builds the vector index
// of any collection written without one (see BuildVectorIndex). None changes results.
const (
	// maintainAfter is how many chunks must have been written since the last run.
	maintainAfter = 256
	// maintainQuiet is how long knowledge writes must pause before it runs.
	maintainQuiet = time.Second
)

// maintainer schedules the upkeep of the knowledge tables after bursts of writes.
type maintainer struct {
	mu      sync.Mutex
	pending int // chunks written since the last run
	timer   *time.Timer
	running sync.WaitGroup
	cancel  context.CancelFunc
	stopped bool
}

// wrote records that n chunks were written and (re)arms the upkeep.
func (m *maintainer) wrote(s *Store, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending += n
	if m.stopped || m.pending < maintainAfter {
		return
	}
	if m.timer != nil {
		m.timer.Reset(maintainQuiet)
		return
	}
	m.timer = time.AfterFunc(maintainQuiet, func() { m.run(s) })
}

// run analyzes the knowledge tables and flushes the full-text index's pending list unless
// a caller did since enough chunks were written (see refreshed), and builds missing vector
// indexes.
func (m *maintainer) run(s *Store) {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	stale := m.pending >= maintainAfter
	m.timer, m.pending = nil, 0
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	m.cancel = cancel
	m.running.Add(1)
	m.mu.Unlock()
	defer m.running.Done()
	defer cancel()
	if stale {
		if err := s.refreshKnowledgeStats(ctx); err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Warn("knowledge table upkeep", "error", err)
			}
			return
		}
	}
	if err := s.buildMissingVectorIndexes(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("knowledge table upkeep: vector indexes", "error", err)
	}
}

// refreshKnowledgeStats analyzes the knowledge tables and flushes the full-text index's
// pending list.
func (s *Store) refreshKnowledgeStats(ctx context.Context) error {
	for _, q := range []string{
		`ANALYZE documents, chunks`,
		`SELECT gin_clean_pending_list('chunks_tsv'::regclass)`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// snapshot returns the number of chunks written since the last upkeep, to pass to
// refreshed once the caller has analyzed the tables itself.
func (m *maintainer) snapshot() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pending
}

// refreshed records that the knowledge tables were analyzed after the first n of the
// pending chunks were written: the upkeep they armed then only checks for missing vector
// indexes, instead of repeating the work a second after a bulk load.
func (m *maintainer) refreshed(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = max(m.pending-n, 0)
}

// settle runs a scheduled upkeep now instead of after the quiet period, or waits for a
// running one, and returns when none is scheduled or running.
func (m *maintainer) settle(ctx context.Context, s *Store) error {
	for {
		m.mu.Lock()
		switch {
		case m.timer == nil:
			// run clears timer and joins running under mu, so nothing is left to wait for
			// but a running upkeep.
			m.mu.Unlock()
			m.running.Wait()
			return nil
		case m.timer.Stop():
			m.mu.Unlock()
			m.run(s)
		default:
			// The timer fired and run is about to take over.
			m.mu.Unlock()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// Settle runs the upkeep a burst of knowledge writes scheduled (see maintainer) now and
// returns when it is done: for benchmarks and tools that measure right after a bulk
// ingestion, where the upkeep (the vector index build above all) would otherwise compete
// with what they measure.
func (s *Store) Settle(ctx context.Context) error { return s.maint.settle(ctx, s) }

// stop cancels a scheduled or running upkeep and waits for it to end.
func (m *maintainer) stop() {
	m.mu.Lock()
	m.stopped = true
	if m.timer != nil {
		m.timer.Stop()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	m.running.Wait()
}
