package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/eventstest"
	"github.com/tandemhq/tandem/events/postgres"
	"github.com/tandemhq/tandem/internal/pgtest"
)

// channel returns a channel name no other test uses: NOTIFY is database-wide.
func channel() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "test_events_" + hex.EncodeToString(b)
}

// newBuses returns n buses on one channel of the test database, as n replicas.
func newBuses(t *testing.T, n int, cfg postgres.Config) []*postgres.Bus {
	t.Helper()
	cfg.URL = pgtest.NewSchema(t) // skips, or fails with TANDEM_REQUIRE_POSTGRES=1, without a database
	if cfg.Channel == "" {
		cfg.Channel = channel()
	}
	bs := make([]*postgres.Bus, n)
	for i := range bs {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		b, err := postgres.New(ctx, cfg)
		cancel()
		if err != nil {
			t.Fatalf("new bus: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		bs[i] = b
	}
	return bs
}

// TestConformance runs the events suite; two replicas are two Bus values on one database.
func TestConformance(t *testing.T) {
	t.Parallel()
	eventstest.Run(t, func(t *testing.T, n int) []events.Bus {
		out := make([]events.Bus, n)
		for i, b := range newBuses(t, n, postgres.Config{}) {
			out[i] = b
		}
		return out
	})
}

// TestReconnect kills the listening connection: subscribers get KindMissed once the bus
// listens again, and later events arrive.
func TestReconnect(t *testing.T) {
	t.Parallel()
	ch := channel()
	b := newBuses(t, 1, postgres.Config{Channel: ch, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})[0]
	topic := eventstest.Topic()
	sub := eventstest.Subscribe(t, b, topic)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		postgres.ApplicationName(ch)).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate listener: %d backends, %v; want 1", killed, err)
	}
	if got := eventstest.Next(t, sub); got.Kind != events.KindMissed || got.Topic != topic {
		t.Fatalf("after the connection dropped got %+v, want %q for %s", got, events.KindMissed, topic)
	}
	want := events.Event{Topic: topic, Kind: events.KindStatus, At: time.Now().UTC().Truncate(time.Microsecond)}
	eventstest.Publish(t, b, want)
	if got := eventstest.Next(t, sub); got.Kind != want.Kind || !got.At.Equal(want.At) {
		t.Errorf("after reconnecting got %+v, want %+v", got, want)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  postgres.Config
		code string
	}{
		{"OK", postgres.Config{URL: "postgres://localhost/x", Channel: "tandem_events_2"}, ""},
		{"ErrNoURL", postgres.Config{}, tandem.EINVALID},
		{"ErrChannelQuote", postgres.Config{URL: "postgres://localhost/x", Channel: `x"; DROP TABLE t; --`}, tandem.EINVALID},
		{"ErrChannelUpper", postgres.Config{URL: "postgres://localhost/x", Channel: "Events"}, tandem.EINVALID},
		{"ErrChannelLong", postgres.Config{URL: "postgres://localhost/x", Channel: "c" + string(make([]byte, 63))}, tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tandem.ErrorCode(tt.cfg.WithDefaults().Validate()); got != tt.code {
				t.Errorf("Validate() code = %q, want %q", got, tt.code)
			}
		})
	}
}
