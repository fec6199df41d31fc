// Package sqlite implements storage.Store on an embedded SQLite database (modernc.org/sqlite,
// pure Go): the zero-setup default store. Writes go through a single connection, so write
// transactions are serialised in-process and never fail with SQLITE_BUSY; reads use a pool of
// read-only connections (WAL mode lets them run next to the writer). Knowledge searches run
// on an in-memory index per collection (BM25 over an inverted index, a brute-force cosine
// scan over the vectors), loaded on first use and kept in sync with every knowledge write.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Config configures the SQLite store.
type Config struct {
	// Migrate applies pending migrations in Open. When false and the schema is behind,
	// Open fails and asks for `tandem migrate`.
	Migrate bool
	// ReadConns is the size of the read connection pool. Default 4.
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by another process.
	// Default 5s.
	BusyTimeout time.Duration
	// Logger receives migration notices; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ReadConns <= 0 {
		c.ReadConns = 4
	}
	if c.BusyTimeout <= 0 {
		c.BusyTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports a configuration error as EINVALID.
func (c Config) Validate() error {
	if c.ReadConns < 0 || c.BusyTimeout < 0 {
		return tandem.Errorf(tandem.EINVALID, "sqlite: ReadConns and BusyTimeout must not be negative")
	}
	return nil
}

// Store is a storage.Store backed by SQLite.
type Store struct {
	cfg    Config
	w      *sql.DB // exactly one connection: all writes
	r      *sql.DB // read-only pool (== w for in-memory databases)
	wstmts sync.Map
	rstmts sync.Map

	wq         chan *writeReq
	quit       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once

	// kmu serialises knowledge writes with their index updates, so the index sees
	// changes in commit order.
	kmu sync.Mutex
	idx *knowledgeIndex
	// warming loads the knowledge index after Open; Close cancels and waits for it.
	stopWarm context.CancelFunc
	warming  sync.WaitGroup

	cache *lookupCache

	ckpt           *sql.DB // one connection for background checkpoints (file databases)
	checkpointDone chan struct{}
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path. An empty path or ":memory:" opens a
// private in-memory database, which is useful in tests.
func Open(ctx context.Context, path string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	memory := path == "" || path == ":memory:"
	pragmas := url.Values{}
	pragmas.Add("_pragma", "busy_timeout("+strconv.FormatInt(cfg.BusyTimeout.Milliseconds(), 10)+")")
	pragmas.Add("_pragma", "foreign_keys(1)")
	// Durability: in WAL mode with synchronous=NORMAL a commit returns once its pages are
	// written to the WAL file (write(2), no fsync), so every acknowledged write survives a
	// crash of this process. The WAL is fsynced at checkpoints only, which run in the
	// background every checkpointInterval (checkpoint.go), so a power loss or kernel crash
	// can lose about the last second of acknowledged writes, never corrupt the database.
	// FULL would fsync every group commit instead.
	pragmas.Add("_pragma", "synchronous(NORMAL)")
	// A larger page cache (negative = KiB) keeps the turn path's b-tree pages in memory.
	pragmas.Add("_pragma", "cache_size(-16384)")
	pragmas.Add("_pragma", "temp_store(MEMORY)")
	// After a checkpoint the WAL file is reused from its start. Truncating it (SQLite's
	// journal_size_limit) made the next commit wait 20–180 ms for the file system while the
	// checkpoint's fsync was in flight, at every checkpoint of a busy minute; so it is only
	// cut back above twice the backstop checkpoint's size, which normal operation never reaches.
	pragmas.Add("_pragma", "journal_size_limit("+strconv.Itoa(2*backstopPages*4096)+")")
	var wdsn, rdsn, cdsn string
	if memory {
		wdsn = "file::memory:?" + pragmas.Encode()
	} else {
		pragmas.Add("_pragma", "journal_mode(WAL)")
		ro := url.Values{}
		for k, v := range pragmas {
			ro[k] = v
		}
		ro.Add("_pragma", "query_only(1)")
		cdsn = "file:" + path + "?" + pragmas.Encode()
		pragmas.Set("_txlock", "immediate")
		pragmas.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(backstopPages)+")")
		wdsn = "file:" + path + "?" + pragmas.Encode()
		rdsn = "file:" + path + "?" + ro.Encode()
	}
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{cfg: cfg, w: w, r: w, wq: make(chan *writeReq, maxGroup), quit: make(chan struct{}), writerDone: make(chan struct{})}
	go s.writer()
	s.idx = newKnowledgeIndex(s)
	s.cache = newLookupCache()
	if err := w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if !memory {
		r, err := sql.Open("sqlite", rdsn)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		r.SetMaxOpenConns(cfg.ReadConns)
		r.SetMaxIdleConns(cfg.ReadConns)
		r.SetConnMaxIdleTime(0)
		r.SetConnMaxLifetime(0)
		s.r = r
		c, err := sql.Open("sqlite", cdsn)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		c.SetMaxOpenConns(1)
		s.ckpt = c
		s.checkpointDone = make(chan struct{})
		go s.checkpointer(c, checkpointInterval)
	}
	if err := s.checkSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	wctx, stop := context.WithCancel(context.Background())
	s.stopWarm = stop
	s.warming.Go(func() {
		if err := s.idx.warm(wctx); err != nil && wctx.Err() == nil {
			s.cfg.Logger.Warn("load knowledge index", "error", err)
		}
	})
	return s, nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close stops the writer and closes both connection pools.
func (s *Store) Close() error {
	if s.stopWarm != nil {
		s.stopWarm()
	}
	s.warming.Wait()
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.writerDone
	if s.ckpt != nil {
		<-s.checkpointDone
		s.ckpt.Close()
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

func migrations() ([]storage.Migration, error) {
	return storage.ReadMigrations(migrationFS, "migrations")
}

func (s *Store) checkSchema(ctx context.Context) error {
	if s.cfg.Migrate {
		if _, err := s.Migrate(ctx); err != nil {
			return err
		}
		return nil
	}
	pending, err := s.pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("sqlite schema is behind: %d pending migration(s) (first %s); run `tandem migrate` or start with migrate enabled", len(pending), pending[0].Name)
	}
	return nil
}

func (s *Store) pending(ctx context.Context) ([]storage.Migration, error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := s.w.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	var out []storage.Migration
	for _, m := range ms {
		if !done[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}

// Migrate applies pending migrations, each in its own transaction, and returns how many
// were applied.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	pending, err := s.pending(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range pending {
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, s.now().UnixMicro())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		s.cfg.Logger.Info("applied migration", "backend", "sqlite", "migration", m.Name)
		applied++
	}
	return applied, nil
}

// now returns the current time as stored: UTC, microsecond precision.
func (s *Store) now() time.Time { return dbTime(s.cfg.Now()) }

func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// writeReq is one write transaction waiting for the writer goroutine.
type writeReq struct {
	ctx   context.Context
	fn    func(tx *sql.Tx) error
	after func() // run by the writer after the commit, when fn succeeded; may be nil
	err   error
	done  chan struct{}
}

// maxGroup bounds how many queued write transactions share one SQLite commit.
const maxGroup = 64

var errClosed = errors.New("sqlite store is closed")

// writeTx runs fn in a write transaction on the single writer connection and returns
// after it committed (or failed). Transactions queued by concurrent callers are group
// committed: they run one after another inside one SQLite transaction, each in its own
// savepoint, so each stays atomic and isolated while they share the commit's WAL write.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeTxThen(ctx, fn, nil)
}

// writeTxThen is writeTx with a hook the writer goroutine runs right after the commit (in
// commit order, before the next transaction begins) when fn succeeded: the place to update
// caches of committed rows.
func (s *Store) writeTxThen(ctx context.Context, fn func(tx *sql.Tx) error, after func()) error {
	r := &writeReq{ctx: ctx, fn: fn, after: after, done: make(chan struct{})}
	select {
	case s.wq <- r:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return r.err
	case <-s.writerDone:
		// The writer closes done for every request it ran before it exits.
		select {
		case <-r.done:
			return r.err
		default:
			return errClosed
		}
	}
}

// otherWritersPoll is how often the writer asks whether another process (the CLI erasing a
// customer, say) committed to the database, which the lookup cache cannot see.
const otherWritersPoll = time.Second

// writer runs queued write transactions until Close.
func (s *Store) writer() {
	defer close(s.writerDone)
	batch := make([]*writeReq, 0, maxGroup)
	poll := time.NewTicker(otherWritersPoll)
	defer poll.Stop()
	var version int64
	for {
		var first *writeReq
		select {
		case first = <-s.wq:
		case <-poll.C:
			version = s.noticeOtherWriters(version)
			continue
		case <-s.quit:
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxGroup {
			select {
			case r := <-s.wq:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.runGroup(batch)
		for _, r := range batch {
			if r.err == nil && r.after != nil {
				r.after()
			}
		}
		for _, r := range batch {
			close(r.done)
		}
	}
}

// noticeOtherWriters empties the lookup cache when another connection (another process)
// committed since data version last; it returns the current version. The writer's own
// commits leave the version unchanged (SQLite's data_version is per connection).
func (s *Store) noticeOtherWriters(last int64) int64 {
	var v int64
	if err := s.w.QueryRow(`PRAGMA data_version`).Scan(&v); err != nil {
		return last
	}
	if last != 0 && v != last {
		s.cache.reset()
	}
	return v
}

// runGroup executes a group of write requests in one transaction and sets their errors.
func (s *Store) runGroup(batch []*writeReq) {
	fail := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
	// The group outlives any one caller's context.
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		fail(err)
		return
	}
	if len(batch) == 1 {
		r := batch[0]
		if r.err = r.ctx.Err(); r.err == nil {
			r.err = r.fn(tx)
		}
		if r.err != nil {
			_ = tx.Rollback()
			return
		}
		r.err = tx.Commit()
		return
	}
	ok := 0
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err != nil {
			continue
		}
		if err := s.execOn(tx, `SAVEPOINT w`); err != nil {
			_ = tx.Rollback()
			fail(err)
			return
		}
		r.err = r.fn(tx)
		if r.err != nil {
			if err := s.execOn(tx, `ROLLBACK TO w`); err != nil {
				_ = tx.Rollback()
				fail(err)
				return
			}
		} else {
			ok++
		}
		if err := s.execOn(tx, `RELEASE w`); err != nil {
			_ = tx.Rollback()
			fail(err)
			return
		}
	}
	if ok == 0 {
		_ = tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		fail(err)
	}
}

// wstmt returns the prepared statement for query bound to tx. Statements listed in
// hotWrites are prepared once in Open; others are prepared on the transaction (the writer
// has a single connection, which tx holds, so nothing can be prepared on the pool now).
func (s *Store) wstmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if v, ok := s.wstmts.Load(query); ok {
		return tx.StmtContext(ctx, v.(*sql.Stmt)), nil
	}
	return tx.PrepareContext(ctx, query)
}

// prepare caches the hot statements on both pools.
func (s *Store) prepare(ctx context.Context) error {
	for _, q := range hotWrites {
		if _, err := cachedStmt(ctx, &s.wstmts, s.w, q); err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
	}
	return nil
}

// execOn runs a prepared statement without arguments on tx.
func (s *Store) execOn(tx *sql.Tx, query string) error {
	st, err := s.wstmt(context.Background(), tx, query)
	if err != nil {
		return err
	}
	_, err = st.Exec()
	return err
}

// hotWrites are the statements of the per-turn write path (the savepoints are those of
// group commits).
var hotWrites = []string{
	`SAVEPOINT w`,
	`ROLLBACK TO w`,
	`RELEASE w`,
	lookupIdentitySQL,
	insertIdentitySQL,
	insertCustomerSQL,
	insertConversationSQL,
	insertMessagesSQL[1],
	insertMessagesSQL[2],
	insertMessagesSQL[3],
	insertMessagesSQL[4],
	updateConversationSQL[0][0],
	updateConversationSQL[1][0],
	setAnnotationsSQL,
}

// rstmt returns the cached prepared statement for query on the read pool.
func (s *Store) rstmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return cachedStmt(ctx, &s.rstmts, s.r, query)
}

func cachedStmt(ctx context.Context, cache *sync.Map, db *sql.DB, query string) (*sql.Stmt, error) {
	if v, ok := cache.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := cache.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// SQLite extended result codes the store translates.
const (
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// translate maps driver errors to *tandem.Error where they have a meaning for callers and
// wraps everything with op.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var te *tandem.Error
	if errors.As(err, &te) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.ENOTFOUND, "not found"))
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.EDUPLICATE, "already exists"))
		case sqliteConstraintForeignKey:
			return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.ENOTFOUND, "referenced row not found"))
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func notFound(what, id string) error {
	return tandem.Errorf(tandem.ENOTFOUND, "%s %q not found", what, id)
}
