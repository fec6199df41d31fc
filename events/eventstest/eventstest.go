// Package eventstest is the conformance suite every events.Bus adapter passes:
//
//	eventstest.Run(t, func(t *testing.T, n int) []events.Bus { ... })
//
// NewFunc returns n buses that share one transport, as n replicas would (an in-process
// adapter returns the same Bus n times); the adapter closes them in t.Cleanup. Every topic a
// test uses is random, so suites may run in parallel on one transport.
package eventstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
)

// NewFunc returns n buses on one shared transport, closed when t ends.
type NewFunc func(t *testing.T, n int) []events.Bus

// Queue is the subscriber queue size the suite assumes adapters are configured with (their
// default): the overflow test publishes several times as many events.
const Queue = 64

// wait bounds every wait for an event; generous, since it only matters when a test fails.
const wait = 20 * time.Second

// Run runs the suite against the adapter newBuses builds.
func Run(t *testing.T, newBuses NewFunc) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, newBuses NewFunc)
	}{
		{"OK", testDeliver},
		{"OKAcrossReplicas", testReplicas},
		{"OKEverySubscriber", testEverySubscriber},
		{"OKOrder", testOrder},
		{"OKUnsubscribe", testUnsubscribe},
		{"OKSlowSubscriberMisses", testSlowSubscriber},
		{"ErrInvalid", testInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newBuses)
		})
	}
}

// Topic returns a random topic.
func Topic() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "conv-" + hex.EncodeToString(b)
}

// Subscribe subscribes to topic until t ends.
func Subscribe(t *testing.T, b events.Bus, topic string) <-chan events.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := b.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	return ch
}

// Publish publishes e, failing t on error.
func Publish(t *testing.T, b events.Bus, e events.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Publish(ctx, e); err != nil {
		t.Fatalf("publish %+v: %v", e, err)
	}
}

// Next returns the next event of ch, failing t when none comes in time or ch is closed.
func Next(t *testing.T, ch <-chan events.Event) events.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed while waiting for an event")
		}
		return e
	case <-time.After(wait):
		t.Fatalf("no event within %s", wait)
	}
	return events.Event{}
}

func msg(topic, id string) events.Event {
	return events.Event{Topic: topic, Kind: events.KindMessage, MessageID: id, At: time.Now().UTC().Truncate(time.Microsecond)}
}

func same(got, want events.Event) bool {
	return got.Topic == want.Topic && got.Kind == want.Kind && got.MessageID == want.MessageID && got.Role == want.Role &&
		got.TicketID == want.TicketID && got.At.Equal(want.At)
}

// testDeliver: a subscriber gets its topic's events, and not another topic's (the marker
// published after the other topic's event comes first).
func testDeliver(t *testing.T, newBuses NewFunc) {
	b := newBuses(t, 1)[0]
	a, other := Topic(), Topic()
	chA := Subscribe(t, b, a)
	chOther := Subscribe(t, b, other)
	want := msg(a, "m1")
	Publish(t, b, want)
	status := events.Event{Topic: other, Kind: events.KindStatus, TicketID: "t-1", At: time.Now().UTC().Truncate(time.Microsecond)}
	Publish(t, b, status)
	if got := Next(t, chA); !same(got, want) {
		t.Errorf("subscriber of %s got %+v, want %+v", a, got, want)
	}
	if got := Next(t, chOther); !same(got, status) {
		t.Errorf("subscriber of %s got %+v, want only its own topic's %+v", other, got, status)
	}
	typing := events.Event{Topic: a, Kind: events.KindTyping, Role: tandem.RoleAgent, At: time.Now().UTC().Truncate(time.Microsecond)}
	Publish(t, b, typing)
	if got := Next(t, chA); !same(got, typing) {
		t.Errorf("subscriber of %s got %+v, want %+v", a, got, typing)
	}
}

// testReplicas: each replica sees the other's events.
func testReplicas(t *testing.T, newBuses NewFunc) {
	bs := newBuses(t, 2)
	topic := Topic()
	ch0, ch1 := Subscribe(t, bs[0], topic), Subscribe(t, bs[1], topic)
	e1 := msg(topic, "from-1")
	Publish(t, bs[1], e1)
	if got := Next(t, ch0); !same(got, e1) {
		t.Errorf("replica 0 got %+v, want replica 1's %+v", got, e1)
	}
	if got := Next(t, ch1); !same(got, e1) {
		t.Errorf("replica 1 got %+v, want its own %+v", got, e1)
	}
	e0 := msg(topic, "from-0")
	Publish(t, bs[0], e0)
	if got := Next(t, ch1); !same(got, e0) {
		t.Errorf("replica 1 got %+v, want replica 0's %+v", got, e0)
	}
}

func testEverySubscriber(t *testing.T, newBuses NewFunc) {
	b := newBuses(t, 1)[0]
	topic := Topic()
	chs := []<-chan events.Event{Subscribe(t, b, topic), Subscribe(t, b, topic), Subscribe(t, b, topic)}
	want := msg(topic, "m1")
	Publish(t, b, want)
	for i, ch := range chs {
		if got := Next(t, ch); !same(got, want) {
			t.Errorf("subscriber %d got %+v, want %+v", i, got, want)
		}
	}
}

// testOrder: one publisher's events of a topic arrive in order.
func testOrder(t *testing.T, newBuses NewFunc) {
	b := newBuses(t, 1)[0]
	topic := Topic()
	ch := Subscribe(t, b, topic)
	const n = Queue / 2
	want := make([]events.Event, n)
	for i := range want {
		want[i] = msg(topic, hex.EncodeToString([]byte{byte(i)}))
		Publish(t, b, want[i])
	}
	for i := range want {
		if got := Next(t, ch); !same(got, want[i]) {
			t.Fatalf("event %d = %+v, want %+v", i, got, want[i])
		}
	}
}

// testUnsubscribe: the channel closes when the subscription's context ends, and publishing
// to a topic nobody listens to is fine.
func testUnsubscribe(t *testing.T, newBuses NewFunc) {
	b := newBuses(t, 1)[0]
	topic := Topic()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := b.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	cancel()
	deadline := time.After(wait)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-deadline:
			t.Fatal("channel still open after its context ended")
		}
	}
	Publish(t, b, msg(topic, "after"))
}

// testSlowSubscriber: a subscriber that does not read never blocks the publisher; once it
// reads again, a KindMissed event tells it to refetch.
func testSlowSubscriber(t *testing.T, newBuses NewFunc) {
	b := newBuses(t, 1)[0]
	slow, marker := Topic(), Topic()
	chSlow := Subscribe(t, b, slow)
	chMarker := Subscribe(t, b, marker)
	for i := range 3 * Queue {
		Publish(t, b, msg(slow, hex.EncodeToString([]byte{byte(i)})))
	}
	// The marker is delivered after everything published before it.
	Publish(t, b, msg(marker, "done"))
	Next(t, chMarker)
	for i := 0; ; i++ {
		e := Next(t, chSlow)
		if e.Kind == events.KindMissed {
			if e.Topic != slow {
				t.Errorf("missed event for topic %q, want %q", e.Topic, slow)
			}
			return
		}
		if i > 2*Queue {
			t.Fatalf("no %q event after %d events", events.KindMissed, i)
		}
	}
}

func testInvalid(t *testing.T, newBuses NewFunc) {
	b := newBuses(t, 1)[0]
	long := make([]byte, events.MaxTopicBytes+1)
	for i := range long {
		long[i] = 'x'
	}
	ctx := context.Background()
	for _, e := range []events.Event{
		{Kind: events.KindMessage},
		{Topic: string(long), Kind: events.KindMessage},
		{Topic: Topic(), Kind: "typing-maybe"},
		{Topic: Topic(), Kind: events.KindMissed},
		{Topic: Topic(), Kind: events.KindTyping},
		{Topic: Topic(), Kind: events.KindTyping, Role: tandem.RoleBot},
		{Topic: Topic(), Kind: events.KindStatus, TicketID: string(long)},
	} {
		if err := b.Publish(ctx, e); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("Publish(%+v) = %v, want code %s", e, err, tandem.EINVALID)
		}
	}
	for _, topic := range []string{"", string(long)} {
		if _, err := b.Subscribe(ctx, topic); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("Subscribe(%d-byte topic) = %v, want code %s", len(topic), err, tandem.EINVALID)
		}
	}
}
