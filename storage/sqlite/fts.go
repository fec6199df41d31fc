package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// FTS5 adds a segment to its index for every write transaction and merges segments only
// a few at a time, so after a bulk ingestion (one transaction per document) each term of
// a search seeks through dozens of segments, which doubles the cost of a query. Once
// full-text writes pause, the store merges the index into one segment. Merging changes
// neither results nor scores.
const (
	// ftsMergeAfter is how many chunks must have been written since the last merge.
	ftsMergeAfter = 256
	// ftsQuiet is how long full-text writes must pause before the merge runs.
	ftsQuiet = time.Second
)

// ftsMerger schedules the merge of the FTS5 index after bursts of writes.
type ftsMerger struct {
	mu      sync.Mutex
	pending int // chunks written since the last merge
	timer   *time.Timer
	stopped bool
}

// wrote records that n chunks were written and (re)arms the merge.
func (m *ftsMerger) wrote(s *Store, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending += n
	if m.stopped || m.pending < ftsMergeAfter {
		return
	}
	if m.timer != nil {
		m.timer.Reset(ftsQuiet)
		return
	}
	m.timer = time.AfterFunc(ftsQuiet, func() { m.merge(s) })
}

func (m *ftsMerger) merge(s *Store) {
	m.mu.Lock()
	m.timer, m.pending = nil, 0
	m.mu.Unlock()
	err := s.writeTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO chunks_fts (chunks_fts) VALUES ('optimize')`)
		return err
	})
	if err != nil && !errors.Is(err, errClosed) {
		s.cfg.Logger.Warn("merge full-text index", "error", err)
	}
}

func (m *ftsMerger) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	if m.timer != nil {
		m.timer.Stop()
	}
}
