// Package fanout is the in-process half every events.Bus adapter shares: it hands an event
// to the local subscribers of its topic without ever blocking the caller, and turns a
// subscriber's overflow into one events.KindMissed event.
package fanout

import (
	"context"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
)

// DefaultQueue is how many undelivered events a subscriber may have before its queue is
// dropped and replaced by one KindMissed event.
const DefaultQueue = 64

// Hub fans events out to local subscribers by topic. It is safe for concurrent use.
type Hub struct {
	queue int
	now   func() time.Time

	mu     sync.RWMutex
	subs   map[string]map[*sub]struct{}
	closed bool
	done   chan struct{}
}

// New returns a hub whose subscribers queue at most queue events (DefaultQueue when <= 0).
func New(queue int, now func() time.Time) *Hub {
	if queue <= 0 {
		queue = DefaultQueue
	}
	if now == nil {
		now = time.Now
	}
	return &Hub{queue: queue, now: now, subs: map[string]map[*sub]struct{}{}, done: make(chan struct{})}
}

type sub struct {
	topic  string
	out    chan events.Event
	signal chan struct{}

	mu     sync.Mutex
	queue  []events.Event
	missed bool
}

// Subscribe adds a subscriber to topic until ctx ends or the hub closes; then the returned
// channel is closed. Errors are events.Bus.Subscribe's: EINVALID for a bad topic,
// ECONFLICT when the hub is closed.
func (h *Hub) Subscribe(ctx context.Context, topic string) (<-chan events.Event, error) {
	if err := events.ValidateTopic(topic); err != nil {
		return nil, err
	}
	s := &sub{topic: topic, out: make(chan events.Event), signal: make(chan struct{}, 1)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, tandem.Errorf(tandem.ECONFLICT, "events: the bus is closed")
	}
	if h.subs[topic] == nil {
		h.subs[topic] = map[*sub]struct{}{}
	}
	h.subs[topic][s] = struct{}{}
	h.mu.Unlock()
	go h.pump(ctx, s)
	return s.out, nil
}

// pump moves a subscriber's queue to its channel, one event at a time, until ctx ends or
// the hub closes.
func (h *Hub) pump(ctx context.Context, s *sub) {
	defer func() {
		h.mu.Lock()
		delete(h.subs[s.topic], s)
		if len(h.subs[s.topic]) == 0 {
			delete(h.subs, s.topic)
		}
		h.mu.Unlock()
		close(s.out)
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-s.signal:
		}
		s.mu.Lock()
		batch, missed := s.queue, s.missed
		s.queue, s.missed = nil, false
		s.mu.Unlock()
		if missed {
			// The queued events are covered by the refetch the subscriber now does.
			batch = []events.Event{{Topic: s.topic, Kind: events.KindMissed, At: h.now()}}
		}
		for _, e := range batch {
			select {
			case s.out <- e:
			case <-ctx.Done():
				return
			case <-h.done:
				return
			}
		}
	}
}

// Deliver queues e for every subscriber of e.Topic. It never blocks on a subscriber: a
// subscriber whose queue is full loses its queue and gets one KindMissed event instead.
func (h *Hub) Deliver(e events.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs[e.Topic] {
		s.mu.Lock()
		if s.missed || len(s.queue) >= h.queue {
			s.queue, s.missed = nil, true
		} else {
			s.queue = append(s.queue, e)
		}
		s.mu.Unlock()
		select {
		case s.signal <- struct{}{}:
		default: // already signalled
		}
	}
}

// MissAll tells every subscriber that events may have been lost (a transport gap).
func (h *Hub) MissAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, subs := range h.subs {
		for s := range subs {
			s.mu.Lock()
			s.queue, s.missed = nil, true
			s.mu.Unlock()
			select {
			case s.signal <- struct{}{}:
			default:
			}
		}
	}
}

// Close ends every subscription (their channels close) and refuses new ones. It is
// idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}
