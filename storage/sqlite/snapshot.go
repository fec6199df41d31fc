package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// In WAL mode a connection empties its page cache whenever it starts a read transaction
// after any commit, and the writer commits after nearly every turn, so each full-text
// search would read its FTS5 and b-tree pages again, one system call apiece (about 40% of
// a search at 300 turns/s). Conversation writes never change the knowledge tables, though,
// so knowledge searches run in read transactions that stay open between searches, keeping
// their pages cached. A snapshot is replaced after any knowledge write (so searches always
// see committed knowledge, including the caller's own writes) and after snapshotMaxAge
// (an open snapshot stops checkpoints from recycling the WAL, which then grows).
const snapshotMaxAge = 500 * time.Millisecond

// snapshotConns is how many searches can hold a snapshot at once (beyond it they queue).
const snapshotConns = 2

// snapshots lends long-lived read transactions to knowledge searches.
type snapshots struct {
	db   *sql.DB
	free chan *snapshot
	size int
	gen  atomic.Uint64 // incremented after every knowledge commit
	quit chan struct{}
	done chan struct{}
}

// snapshot is one read transaction and the knowledge generation it began after.
type snapshot struct {
	tx    *sql.Tx
	gen   uint64
	begun time.Time
	stmts map[string]*sql.Stmt // prepared on tx
}

func newSnapshots(db *sql.DB, size int) *snapshots {
	p := &snapshots{db: db, free: make(chan *snapshot, size), size: size, quit: make(chan struct{}), done: make(chan struct{})}
	for range size {
		p.free <- &snapshot{}
	}
	go p.expire()
	return p
}

// changed records a committed knowledge write.
func (p *snapshots) changed() { p.gen.Add(1) }

// get returns a snapshot no older than snapshotMaxAge that began after the last knowledge
// write; put must return it.
func (p *snapshots) get(ctx context.Context) (*snapshot, error) {
	var sn *snapshot
	select {
	case sn = <-p.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	gen := p.gen.Load()
	if sn.tx != nil && (sn.gen != gen || time.Since(sn.begun) > snapshotMaxAge) {
		sn.end()
	}
	if sn.tx == nil {
		// The transaction outlives this caller's context.
		tx, err := p.db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
		if err != nil {
			p.free <- sn
			return nil, err
		}
		sn.tx, sn.gen, sn.begun = tx, gen, time.Now()
	}
	return sn, nil
}

// put returns a snapshot; after an error it is ended, so the next search begins afresh.
func (p *snapshots) put(sn *snapshot, err error) {
	if err != nil {
		sn.end()
	}
	p.free <- sn
}

// stmt returns query prepared on the snapshot's transaction. (Not on the pool: every
// connection of the pool may be held by an open snapshot.)
func (sn *snapshot) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := sn.stmts[query]; ok {
		return st, nil
	}
	st, err := sn.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if sn.stmts == nil {
		sn.stmts = map[string]*sql.Stmt{}
	}
	sn.stmts[query] = st
	return st, nil
}

// end rolls the transaction back, which closes its statements.
func (sn *snapshot) end() {
	if sn.tx != nil {
		_ = sn.tx.Rollback()
		sn.tx, sn.stmts = nil, nil
	}
}

// expire ends idle snapshots older than snapshotMaxAge, so an idle store does not hold
// back checkpoints.
func (p *snapshots) expire() {
	defer close(p.done)
	t := time.NewTicker(snapshotMaxAge)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
		}
		for range p.size {
			select {
			case sn := <-p.free:
				if sn.tx != nil && time.Since(sn.begun) > snapshotMaxAge {
					sn.end()
				}
				p.free <- sn
			default:
			}
		}
	}
}

// close ends every snapshot (waiting for those in use) and closes the connections.
func (p *snapshots) close() error {
	close(p.quit)
	<-p.done
	for range p.size {
		(<-p.free).end()
	}
	return p.db.Close()
}
