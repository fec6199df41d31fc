package postgres

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit. Each turn ends with a small write (RecordTurn, sometimes CreateMessage first) whose
// cost is almost all the wait for its commit's WAL flush; run one transaction per turn and
// the disk's flush rate caps the turn rate. So these writes are queued to a few committer
// goroutines instead: each takes one request, adds whatever else is queued at that moment
// (never waiting for more), and sends them as one pipelined batch, which PostgreSQL runs as
// one implicit transaction, so one commit and one WAL flush cover them all. With several
// committers a batch forms while the previous one is in flight.

const (
	// maxCommitBatch bounds how many requests share one transaction.
	maxCommitBatch = 64
	// commitTimeout bounds one batch: it runs on the committer's context, not any caller's.
	commitTimeout = 30 * time.Second
)

// errClosed is returned to requests made, or still queued, after Close.
var errClosed = errors.New("postgres store is closed")

// States of a commitReq: a caller whose context ends while its request is queued marks it
// cancelled, so no committer runs it; a committer marks it taken before running it.
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// commitReq is one caller's transaction waiting for a committer.
type commitReq struct {
	// key is the conversation whose row the statements lock; a batch runs its requests in
	// key order, so two batches lock rows in the same order and cannot deadlock.
	key string
	// queue adds the request's statements, with any result callbacks, to b. It is called
	// again if the request is re-run on its own.
	queue func(b *pgx.Batch)
	state atomic.Int32
	err   error
	done  chan struct{} // closed once err is set
}

// committer group-commits requests on a pool.
type committer struct {
	pool      *pgxpool.Pool
	logger    *slog.Logger
	q         chan *commitReq
	quit      chan struct{}
	closeOnce sync.Once
	running   sync.WaitGroup
	exited    chan struct{} // closed when every committer goroutine has returned
}

func newCommitter(pool *pgxpool.Pool, n int, logger *slog.Logger) *committer {
	c := &committer{
		pool:   pool,
		logger: logger,
		q:      make(chan *commitReq, n*maxCommitBatch),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range n {
		c.running.Go(c.run)
	}
	go func() {
		c.running.Wait()
		close(c.exited)
	}()
	return c
}

// do runs the statements queue adds in a transaction, possibly shared with other callers',
// and returns once it committed or failed with the error of these statements alone. When
// ctx ends while the request is still queued, do returns ctx.Err() and the statements never
// run; once its batch is running, do waits for it.
func (c *committer) do(ctx context.Context, key string, queue func(b *pgx.Batch)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.quit:
		return errClosed
	default:
	}
	r := &commitReq{key: key, queue: queue, done: make(chan struct{})}
	select {
	case c.q <- r:
	case <-c.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			return ctx.Err()
		}
		<-r.done // a committer took it first
		return r.err
	case <-c.exited:
		// Committers close done for every request they took before returning.
		select {
		case <-r.done:
			return r.err
		default:
			return errClosed
		}
	}
}

// close stops the committers after they commit what is queued; requests arriving later
// get errClosed.
func (c *committer) close() {
	c.closeOnce.Do(func() { close(c.quit) })
	<-c.exited
}

// run is one committer goroutine.
func (c *committer) run() {
	batch := make([]*commitReq, 0, maxCommitBatch)
	for {
		select {
		case r := <-c.q:
			batch = c.take(batch[:0], r)
			c.commit(batch)
		case <-c.quit:
			for {
				batch = c.take(batch[:0], nil)
				if len(batch) == 0 {
					return
				}
				c.commit(batch)
			}
		}
	}
}

// take appends first (when not nil) and whatever else is queued, up to maxCommitBatch, to
// batch, skipping requests whose callers gave up.
func (c *committer) take(batch []*commitReq, first *commitReq) []*commitReq {
	add := func(r *commitReq) {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			batch = append(batch, r)
		}
	}
	if first != nil {
		add(first)
	}
	for len(batch) < maxCommitBatch {
		select {
		case r := <-c.q:
			add(r)
		default:
			return batch
		}
	}
	return batch
}

// commit runs batch in one transaction and, when that fails in a way that rolled it back,
// each request in its own, so every caller gets its own outcome.
func (c *committer) commit(batch []*commitReq) {
	if len(batch) == 0 {
		return
	}
	// Stable: two turns of one conversation keep their order.
	slices.SortStableFunc(batch, func(a, b *commitReq) int { return strings.Compare(a.key, b.key) })
	err := c.send(batch)
	switch {
	case err == nil || len(batch) == 1:
		for _, r := range batch {
			r.err = err
		}
	case rolledBack(err):
		for _, r := range batch {
			r.err = c.send([]*commitReq{r})
		}
	default:
		// The connection failed mid-batch: whether it committed is unknown, so re-running
		// could store a turn twice; every caller gets the error, as with its own transaction.
		c.logger.Warn("postgres group commit failed", "requests", len(batch), "error", err)
		for _, r := range batch {
			r.err = err
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

// send runs the requests' statements as one pipelined batch: PostgreSQL runs a pipeline up
// to its sync as one implicit transaction and commits it at the sync.
func (c *committer) send(reqs []*commitReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	b := &pgx.Batch{}
	for _, r := range reqs {
		r.queue(b)
	}
	return c.pool.SendBatch(ctx, b).Close()
}

// rolledBack reports whether err means the batch's transaction did not commit: the server
// rejected a statement (or the commit), or nothing was sent.
func rolledBack(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) || pgconn.SafeToRetry(err)
}
