// Package postgres implements storage.Store on PostgreSQL with pgvector (pgx/v5 pool,
// pgvector-go): the production store shared by any number of `tandem serve` replicas.
// Statements are prepared and cached per connection by pgx; full-text search uses a
// weighted tsvector column with a GIN index; vector search uses a partial HNSW index per
// collection on (embedding::halfvec(D)).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Config configures the PostgreSQL store.
type Config struct {
	// Migrate applies pending migrations in Open. When false and the schema is behind,
	// Open fails and asks for `tandem migrate`.
	Migrate bool
	// MaxConns bounds the connection pool. 0 means the DSN's pool_max_conns when present,
	// else 16: turns wait on WAL flushes far more than on CPU, and concurrent commits share
	// a flush, so more connections than cores raise throughput.
	MaxConns int32
	// SynchronousCommit, when set, is the session's synchronous_commit ("on", "off",
	// "local", ...). Empty keeps the server's setting. "off" makes commits return before
	// the WAL is flushed: a server crash can lose the last few hundred milliseconds of
	// commits (never corrupting anything), in exchange for much higher turn throughput on
	// disks with slow fsync.
	SynchronousCommit string
	// Committers is how many goroutines group-commit the turn path's writes (RecordTurn,
	// CreateMessage) and AppendAudit, each sending one transaction at a time. Default 2, so a batch forms
	// while the other is in flight: on 2 cores `tandem bench turns --store postgres` ran
	// ~1,600 turns/s with 1 committer and ~2,400 with 2 or with 4.
	Committers int
	// Logger receives migration notices; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Committers <= 0 {
		c.Committers = 2
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
	if c.MaxConns < 0 || c.Committers < 0 {
		return tandem.Errorf(tandem.EINVALID, "postgres: MaxConns and Committers must not be negative")
	}
	switch c.SynchronousCommit {
	case "", "on", "off", "local", "remote_write", "remote_apply":
		return nil
	}
	return tandem.Errorf(tandem.EINVALID, "postgres: unknown synchronous_commit %q", c.SynchronousCommit)
}

// Store is a storage.Store backed by PostgreSQL.
type Store struct {
	cfg    Config
	pool   *pgxpool.Pool
	commit *committer
	maint  maintainer
	text   textStats
}

var _ storage.Store = (*Store)(nil)

// Open connects to dsn, makes sure the vector extension exists and checks (or, with
// cfg.Migrate, applies) the schema migrations.
func Open(ctx context.Context, dsn string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	switch {
	case cfg.MaxConns > 0:
		pc.MaxConns = cfg.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		pc.MaxConns = 16
	}
	if cfg.SynchronousCommit != "" {
		pc.ConnConfig.RuntimeParams["synchronous_commit"] = cfg.SynchronousCommit
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &Store{cfg: cfg, pool: pool, commit: newCommitter(pool, cfg.Committers, cfg.Logger)}
	if err := pool.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := s.ensureExtension(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.checkSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.scheduleIndexUpgrade(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ensureExtension creates the vector extension unless the `vector` type already resolves.
func (s *Store) ensureExtension(ctx context.Context) error {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regtype('vector') IS NOT NULL`).Scan(&ok); err != nil {
		return fmt.Errorf("check vector extension: %w", err)
	}
	if ok {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector`); err != nil {
		// A replica starting at the same time may have created it first.
		if s.pool.QueryRow(ctx, `SELECT to_regtype('vector') IS NOT NULL`).Scan(&ok) == nil && ok {
			return nil
		}
		return fmt.Errorf("create extension vector (pgvector must be installed): %w", err)
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close commits the writes already queued, then closes the pool. Writes after Close fail.
func (s *Store) Close() error {
	s.maint.stop()
	s.commit.close()
	s.pool.Close()
	return nil
}

// Pool returns the underlying pool (for the job queue and LISTEN/NOTIFY).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func migrations() ([]storage.Migration, error) {
	return storage.ReadMigrations(migrationFS, "migrations")
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`

// lockMigrations serialises migrators of the current schema across processes for the
// rest of tx.
const lockMigrations = `SELECT pg_advisory_xact_lock(7461636, hashtext(current_schema()))`

// applied returns the versions recorded in the current schema's schema_migrations (none
// when the table does not exist there, even if a later search_path schema has one).
func (s *Store) applied(ctx context.Context) (map[int]bool, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass(format('%I.schema_migrations', current_schema())) IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	done := map[int]bool{}
	if !exists {
		return done, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		done[v] = true
	}
	return done, nil
}

func (s *Store) checkSchema(ctx context.Context) error {
	if s.cfg.Migrate {
		_, err := s.Migrate(ctx)
		return err
	}
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	done, err := s.applied(ctx)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	var pending []string
	for _, m := range ms {
		if !done[m.Version] {
			pending = append(pending, m.Name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("postgres schema is behind: %d pending migration(s) (first %s); run `tandem migrate` or start with migrate enabled", len(pending), pending[0])
	}
	return nil
}

// Migrate applies pending migrations, each in its own transaction holding an advisory
// lock, so replicas starting together apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, fmt.Errorf("read migrations: %w", err)
	}
	for _, m := range ms {
		did := false
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, lockMigrations); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
				return err
			}
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return err
			}
			did = true
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if did {
			s.cfg.Logger.Info("applied migration", "backend", "postgres", "migration", m.Name)
			applied++
		}
	}
	return applied, nil
}

func (s *Store) now() time.Time { return dbTime(s.cfg.Now()) }

func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// translate maps driver errors to *tandem.Error and wraps everything with op.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var te *tandem.Error
	if errors.As(err, &te) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.ENOTFOUND, "not found"))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.EDUPLICATE, "already exists"))
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.ENOTFOUND, "referenced row not found"))
		case "40001": // serialization_failure, from tandem_assert_state
			return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.ECONFLICT, "%s", pe.Message))
		case "P0002": // no_data_found, from tandem_assert_found
			return fmt.Errorf("%s: %w", op, tandem.Errorf(tandem.ENOTFOUND, "%s", pe.Message))
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func notFound(what, id string) error {
	return tandem.Errorf(tandem.ENOTFOUND, "%s %q not found", what, id)
}

// tx runs fn in a transaction.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// db is what helpers need from a pool or a transaction.
type db interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
