// Package memory is the in-process events.Bus: events reach the subscribers of the same
// Bus value only, which is all a single process (Tandem on SQLite) needs. Publish never
// blocks on a slow subscriber; a subscriber that falls more than Config.Queue events
// behind gets one events.KindMissed event in place of what it missed.
package memory

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/internal/fanout"
)

// Config configures a Bus. The zero value is usable.
type Config struct {
	// Queue is how many undelivered events a subscriber may have before they are replaced
	// by one KindMissed event. Default fanout.DefaultQueue (64).
	Queue int
	// Now stamps KindMissed events. Default time.Now.
	Now func() time.Time
}

// Bus is an in-process events.Bus. It is safe for concurrent use.
type Bus struct {
	hub *fanout.Hub
}

var _ events.Bus = (*Bus)(nil)

// New returns an in-process bus.
func New(cfg Config) *Bus {
	return &Bus{hub: fanout.New(cfg.Queue, cfg.Now)}
}

// Publish hands e to the subscribers of e.Topic; it never blocks on them.
func (b *Bus) Publish(ctx context.Context, e events.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	b.hub.Deliver(e)
	return nil
}

// Subscribe returns the events of topic from now on, until ctx ends or Close.
func (b *Bus) Subscribe(ctx context.Context, topic string) (<-chan events.Event, error) {
	return b.hub.Subscribe(ctx, topic)
}

// Close ends every subscription. It is idempotent.
func (b *Bus) Close() error {
	b.hub.Close()
	return nil
}
