// Package postgres is the events.Bus of replicas that share a PostgreSQL database: Publish
// is a NOTIFY on one channel, and every Bus on the same database and channel LISTENs to it
// on a dedicated connection and fans the events out to its local subscribers by topic.
//
// One channel carries every topic (the topic travels in the JSON payload), so channel names
// never depend on conversation ids; the price is that each replica receives all events and
// drops those nobody local subscribed to, which is cheap at chat rates. NOTIFY channels are
// database-wide, not per schema: deployments (or tests) sharing a database use distinct
// Config.Channel names.
//
// Delivery is as the events package states: at most once. When the listening connection
// fails, the Bus reconnects with exponential backoff and, once listening again, sends
// events.KindMissed to every subscriber, which then refetch from the store.
package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/internal/fanout"
)

// Defaults of Config.
const (
	DefaultChannel    = "tandem_events"
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	// MaxPayloadBytes bounds a NOTIFY payload; PostgreSQL refuses 8000 bytes or more.
	MaxPayloadBytes = 7999
)

// channelRE is a channel name that needs no quoting and fits an identifier (63 bytes).
var channelRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Config configures a Bus.
type Config struct {
	// URL is the database (required), e.g. the store's TANDEM_DATABASE_URL.
	URL string
	// Channel is the NOTIFY channel: lower-case letters, digits and underscores, at most 63
	// bytes. Default "tandem_events".
	Channel string
	// Queue is how many undelivered events a local subscriber may have before they are
	// replaced by one KindMissed event. Default 64.
	Queue int
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts of the
	// listening connection, doubling from Min to Max. Defaults 100ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives connection failures. Default slog.Default().
	Logger *slog.Logger
	// Now stamps KindMissed events. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Channel == "" {
		c.Channel = DefaultChannel
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports a missing URL or a bad channel name as a *tandem.Error with code
// EINVALID. Call it on the result of WithDefaults.
func (c Config) Validate() error {
	switch {
	case c.URL == "":
		return tandem.Errorf(tandem.EINVALID, "events/postgres: a database URL is required")
	case !channelRE.MatchString(c.Channel):
		return tandem.Errorf(tandem.EINVALID, "events/postgres: channel %q must be lower-case letters, digits and underscores, at most 63 bytes", c.Channel)
	case c.MinBackoff > c.MaxBackoff:
		return tandem.Errorf(tandem.EINVALID, "events/postgres: min backoff %s exceeds max backoff %s", c.MinBackoff, c.MaxBackoff)
	}
	return nil
}

// Bus is an events.Bus over LISTEN/NOTIFY. It is safe for concurrent use.
type Bus struct {
	cfg  Config
	pool *pgxpool.Pool // publishes
	conn *pgx.ConnConfig
	hub  *fanout.Hub

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

var _ events.Bus = (*Bus)(nil)

// ApplicationName is the application_name of a Bus's listening connection on channel, so
// operators (and tests) can find it in pg_stat_activity.
func ApplicationName(channel string) string { return "tandem_events_" + channel }

// New connects to the database, starts listening on the channel and returns the bus; it
// fails when the database cannot be reached. Close releases it.
func New(ctx context.Context, cfg Config) (*Bus, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, tandem.Errorf(tandem.EINVALID, "events/postgres: bad database URL: %v", err)
	}
	// Publishing is one short statement; two connections are plenty.
	pcfg.MaxConns = 2
	lcfg := pcfg.ConnConfig.Copy()
	lcfg.RuntimeParams["application_name"] = ApplicationName(cfg.Channel)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("events/postgres: open pool: %w", err)
	}
	b := &Bus{cfg: cfg, pool: pool, conn: lcfg, hub: fanout.New(cfg.Queue, cfg.Now)}
	conn, err := b.listen(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(1)
	go b.run(runCtx, conn)
	return b, nil
}

// listen opens the dedicated connection and LISTENs on the channel.
func (b *Bus) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, b.conn)
	if err != nil {
		return nil, fmt.Errorf("events/postgres: connect listener: %w", err)
	}
	// The channel matched channelRE, so it needs no quoting; Sanitize keeps that obvious.
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.cfg.Channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("events/postgres: listen: %w", err)
	}
	return conn, nil
}

// run receives notifications until ctx ends, reconnecting with backoff after failures.
func (b *Bus) run(ctx context.Context, conn *pgx.Conn) {
	defer b.wg.Done()
	backoff := b.cfg.MinBackoff
	for {
		err := b.receive(ctx, conn)
		_ = conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		b.cfg.Logger.Warn("events: listening connection lost; reconnecting", "channel", b.cfg.Channel, "error", err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, b.cfg.MaxBackoff)
			if conn, err = b.listen(ctx); err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			b.cfg.Logger.Warn("events: reconnect failed", "channel", b.cfg.Channel, "error", err, "retry_in", backoff.String())
		}
		backoff = b.cfg.MinBackoff
		b.cfg.Logger.Info("events: listening again", "channel", b.cfg.Channel)
		// Whatever was published while nobody listened is gone: subscribers refetch.
		b.hub.MissAll()
	}
}

// receive hands each notification to the local subscribers until the connection fails.
func (b *Bus) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e events.Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil || e.Validate() != nil {
			b.cfg.Logger.Warn("events: dropped a malformed notification", "channel", b.cfg.Channel, "bytes", len(n.Payload))
			continue
		}
		b.hub.Deliver(e)
	}
}

// Publish NOTIFYs e on the channel; every Bus listening there (this one included) delivers
// it to its subscribers of e.Topic.
func (b *Bus) Publish(ctx context.Context, e events.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("events/postgres: encode event: %w", err)
	}
	if len(payload) > MaxPayloadBytes {
		return tandem.Errorf(tandem.EINVALID, "events/postgres: event is %d bytes; NOTIFY takes at most %d", len(payload), MaxPayloadBytes)
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", b.cfg.Channel, string(payload)); err != nil {
		return fmt.Errorf("events/postgres: notify: %w", err)
	}
	return nil
}

// Subscribe returns the events of topic from now on, until ctx ends or Close.
func (b *Bus) Subscribe(ctx context.Context, topic string) (<-chan events.Event, error) {
	return b.hub.Subscribe(ctx, topic)
}

// Close stops listening, ends every subscription and closes the connections. It is
// idempotent.
func (b *Bus) Close() error {
	b.once.Do(func() {
		b.cancel()
		b.wg.Wait()
		b.hub.Close()
		b.pool.Close()
	})
	return nil
}
