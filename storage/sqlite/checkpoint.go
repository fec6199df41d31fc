package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints copy the WAL back into the database file and fsync it. Left to SQLite, the
// connection whose commit crosses wal_autocheckpoint runs one inside that commit: the single
// writer then stalls for the copy and two fsyncs while every turn waits behind it (in
// `tandem bench turns` this was most of the p99). A separate connection runs them in the
// background instead, PASSIVE so it never blocks the writer or readers; the writer keeps a
// far larger autocheckpoint only as a backstop should the WAL ever outgrow it.
//
// They run often: each checkpoint's fsyncs write out everything committed since the last
// one, and a commit that must read a block from disk meanwhile (SQLite's 4,120-byte WAL
// frames straddle file-system blocks) waits behind that burst. With one checkpoint a
// second such commits stalled for 60–180 ms several times in ten seconds; ten a second keep
// the bursts small (`tandem bench turns --rate 3000`: p99 84–170 → 26–42 ms).
const (
	checkpointInterval = 100 * time.Millisecond
	backstopPages      = 64000 // ≈ 256 MiB of 4 KiB pages
)

// checkpointer runs a PASSIVE checkpoint every interval on db until quit is closed.
func (s *Store) checkpointer(db *sql.DB, interval time.Duration) {
	defer close(s.checkpointDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			var busy, logFrames, checkpointed int
			err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &checkpointed)
			cancel()
			if err != nil {
				s.cfg.Logger.Warn("sqlite checkpoint", "error", err)
			}
		}
	}
}
