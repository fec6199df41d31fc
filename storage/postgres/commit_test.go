package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
)

// committerFixture is a store in a fresh schema, with its DSN.
type committerFixture struct {
	s   *Store
	dsn string
}

func setupCommitter(t *testing.T, committers int) committerFixture {
	t.Helper()
	dsn := pgtest.NewSchema(t)
	s, err := Open(context.Background(), dsn, Config{Migrate: true, MaxConns: 8, Committers: committers,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return committerFixture{s: s, dsn: dsn}
}

// fixtureBots numbers the bots of conversations, so no two are one customer's with one bot.
var fixtureBots atomic.Int64

// conversations creates n open conversations of one customer, each with a bot of its own
// (a customer has one open conversation per bot).
func (f committerFixture) conversations(t *testing.T, n int) []string {
	t.Helper()
	ctx := context.Background()
	c, _, err := f.s.ResolveIdentity(ctx, tandem.ChannelSMS, fmt.Sprintf("+1555%07d", time.Now().UnixNano()%1e7))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		conv := &tandem.Conversation{BotID: fmt.Sprintf("bot-%d", fixtureBots.Add(1)), CustomerID: c.ID, Channel: tandem.ChannelSMS}
		if err := f.s.CreateConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		ids[i] = conv.ID
	}
	return ids
}

// turn is a turn storing an inbound message and one reply in conversationID.
func turn(conversationID string) storage.TurnRecord {
	return storage.TurnRecord{ConversationID: conversationID,
		Inbound: &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "hi"},
		Replies: []*tandem.Message{{Channel: tandem.ChannelSMS, Text: "hello"}},
		Update:  storage.ConversationUpdate{State: []byte("s")}}
}

// count runs a count query with args.
func (f committerFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.s.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// block makes the committers busy: it locks a conversation's row from another connection
// and records a turn in it, which a committer runs and which waits for the lock. release
// lets it commit and returns its error. With one committer, requests made meanwhile stay
// queued.
func (f committerFixture) block(t *testing.T) (release func() error) {
	t.Helper()
	ctx := context.Background()
	id := f.conversations(t, 1)[0]
	conn, err := pgx.Connect(ctx, f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid() FROM conversations WHERE id = $1 FOR UPDATE`, id).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- f.s.RecordTurn(ctx, turn(id)) }()
	waitFor(t, "the committer to wait for the row lock", func() bool {
		var blocked bool
		err := f.s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid)))`, pid).Scan(&blocked)
		return err == nil && blocked
	})
	return func() error {
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		return <-errc
	}
}

// waitFor polls cond until it holds; the test's deadline bounds the wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if d, ok := t.Deadline(); ok && time.Until(d) < 5*time.Second {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// queued reports how many requests wait in the committers' queue.
func (f committerFixture) queued() int { return len(f.s.commit.q) }

// inOneBatch runs do(0) … do(n-1) concurrently while the only committer is blocked, so all
// n requests are queued before it takes them as one batch, and returns their errors.
func (f committerFixture) inOneBatch(t *testing.T, n int, do func(i int) error) []error {
	t.Helper()
	release := f.block(t)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = do(i) })
	}
	waitFor(t, "queued requests", func() bool { return f.queued() == n })
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return errs
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OKConcurrent", func(t *testing.T) {
		t.Parallel()
		f := setupCommitter(t, 0)
		convs := f.conversations(t, 16)
		const perConv, audits = 20, 50
		var wg sync.WaitGroup
		errs := make(chan error, len(convs)*perConv+audits)
		for _, id := range convs {
			for range perConv {
				wg.Go(func() { errs <- f.s.RecordTurn(ctx, turn(id)) })
			}
		}
		for range audits {
			wg.Go(func() {
				e := &tandem.AuditEntry{Actor: "system", Action: "test.group", Subject: "s"}
				err := f.s.AppendAudit(ctx, e)
				if err == nil && e.ID == 0 {
					err = errors.New("audit entry without id")
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got, want := f.count(t, `SELECT count(*) FROM messages`), 2*len(convs)*perConv; got != want {
			t.Errorf("messages = %d, want %d", got, want)
		}
		if got, want := f.count(t, `SELECT count(DISTINCT id) FROM audit_log WHERE action = 'test.group'`), audits; got != want {
			t.Errorf("audit entries = %d, want %d", got, want)
		}
	})

	t.Run("OKOneTransaction", func(t *testing.T) {
		// Requests queued together commit in one transaction.
		t.Parallel()
		f := setupCommitter(t, 1)
		convs := f.conversations(t, 8)
		errs := f.inOneBatch(t, len(convs), func(i int) error { return f.s.RecordTurn(ctx, turn(convs[i])) })
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := f.count(t, `SELECT count(DISTINCT xmin::text) FROM messages WHERE conversation_id = ANY ($1)`, convs); got != 1 {
			t.Errorf("transactions = %d, want 1", got)
		}
	})

	t.Run("ErrNotFoundInBatch", func(t *testing.T) {
		// One bad request fails alone; the others of its batch commit.
		t.Parallel()
		f := setupCommitter(t, 1)
		convs := append(f.conversations(t, 6), "missing")
		errs := f.inOneBatch(t, len(convs), func(i int) error { return f.s.RecordTurn(ctx, turn(convs[i])) })
		for i, id := range convs {
			if id == "missing" {
				if got := tandem.ErrorCode(errs[i]); got != tandem.ENOTFOUND {
					t.Errorf("turn of missing conversation: code %q (%v), want not_found", got, errs[i])
				}
			} else if errs[i] != nil {
				t.Errorf("turn %d: %v", i, errs[i])
			}
		}
		if got, want := f.count(t, `SELECT count(*) FROM messages WHERE conversation_id = ANY ($1)`, convs), 2*(len(convs)-1); got != want {
			t.Errorf("messages = %d, want %d", got, want)
		}
	})

	t.Run("ErrDuplicateInBatch", func(t *testing.T) {
		// Provider retries of one message queued with others: one is stored, the rest get
		// EDUPLICATE, and the other messages of the batch are stored.
		t.Parallel()
		f := setupCommitter(t, 1)
		conv := f.conversations(t, 1)[0]
		providerIDs := []string{"SM-dup", "SM-dup", "SM-a", "SM-dup", "SM-b"}
		errs := f.inOneBatch(t, len(providerIDs), func(i int) error {
			return f.s.CreateMessage(ctx, &tandem.Message{ConversationID: conv, Role: tandem.RoleCustomer,
				Channel: tandem.ChannelSMS, Text: "hi", ProviderID: providerIDs[i]})
		})
		stored, dups := 0, 0
		for i, err := range errs {
			switch {
			case err == nil:
				stored++
			case tandem.ErrorCode(err) == tandem.EDUPLICATE && providerIDs[i] == "SM-dup":
				dups++
			default:
				t.Errorf("message %d (%s): %v", i, providerIDs[i], err)
			}
		}
		if stored != 3 || dups != 2 {
			t.Errorf("stored %d, duplicates %d; want 3 and 2", stored, dups)
		}
		if got := f.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv); got != 3 {
			t.Errorf("messages = %d, want 3", got)
		}
	})

	t.Run("ErrCanceledWhileQueued", func(t *testing.T) {
		t.Parallel()
		f := setupCommitter(t, 1)
		id := f.conversations(t, 1)[0]
		release := f.block(t)
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- f.s.RecordTurn(cctx, turn(id)) }()
		waitFor(t, "the queued turn", func() bool { return f.queued() == 1 })
		cancel()
		// It returns while the committer is still blocked.
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("RecordTurn cancelled while queued = %v, want context.Canceled", err)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		// A later turn runs after the committer passed the cancelled one.
		if err := f.s.RecordTurn(ctx, turn(id)); err != nil {
			t.Fatal(err)
		}
		if got := f.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, id); got != 2 {
			t.Errorf("messages = %d, want 2 (the cancelled turn not stored)", got)
		}
	})

	t.Run("CloseWithQueued", func(t *testing.T) {
		// Close commits what is queued; later requests get errClosed.
		t.Parallel()
		f := setupCommitter(t, 1)
		convs := f.conversations(t, 5)
		release := f.block(t)
		errs := make([]error, len(convs))
		var wg sync.WaitGroup
		for i, id := range convs {
			wg.Go(func() { errs[i] = f.s.RecordTurn(ctx, turn(id)) })
		}
		waitFor(t, "queued turns", func() bool { return f.queued() == len(convs) })
		closed := make(chan struct{})
		go func() {
			f.s.Close()
			close(closed)
		}()
		waitFor(t, "Close to begin", func() bool {
			select {
			case <-f.s.commit.quit:
				return true
			default:
				return false
			}
		})
		if err := f.s.RecordTurn(ctx, turn(convs[0])); !errors.Is(err, errClosed) {
			t.Errorf("RecordTurn after Close = %v, want %v", err, errClosed)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		<-closed
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("queued turn %d: %v", i, err)
			}
		}
		// The store's pool is closed now.
		conn, err := pgx.Connect(ctx, f.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var got int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages WHERE conversation_id = ANY ($1)`, convs).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := 2 * len(convs); got != want {
			t.Errorf("messages = %d, want %d", got, want)
		}
	})
}
