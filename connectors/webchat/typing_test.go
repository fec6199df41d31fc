package webchat_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/eventstest"
)

// TestTyping: the visitor's typing frames are announced on the conversation's topic only
// while a human has it, at most every few seconds; an agent's typing reaches the page as a
// typing frame, and the visitor's own typing does not come back.
func TestTyping(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64 // seconds after start
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	f := setup(t, func(c *webchat.Config) {
		c.Now = func() time.Time { return start.Add(time.Duration(clock.Load()) * time.Second) }
	})
	c, _ := f.dial(t, newJar(t), "bot=demo")
	conv := c.say("hello", "c-0").ConversationID
	if st := c.next(); st.Type != "status" {
		t.Fatalf("after the first message got %+v, want the new conversation's status", st)
	}
	sub := eventstest.Subscribe(t, f.bus, conv)
	// typed sends a typing frame and waits until the session has handled it: frames are
	// handled in order, and a refused frame is answered.
	typed := func() {
		t.Helper()
		c.send(websocket.MessageText, `{"type":"typing"}`)
		c.send(websocket.MessageText, `{"type":"presence"}`)
		if got := c.next(); got.Type != "error" {
			t.Fatalf("got %+v, want the error answering the marker frame", got)
		}
	}
	// The bot has the conversation: nothing is announced before the test's marker.
	typed()
	f.publish(t, conv, events.KindStatus, "")
	if e := eventstest.Next(t, sub); e.Kind != events.KindStatus {
		t.Errorf("typing to the bot announced %+v, want nothing", e)
	}

	c.say("human", "c-1")
	if st := c.next(); st.Status != string(tandem.StatusHandoff) {
		t.Fatalf("after asking for a human got %+v, want status handoff", st)
	}
	typed()
	if e := eventstest.Next(t, sub); e.Kind != events.KindTyping || e.Role != tandem.RoleCustomer || !e.At.Equal(start) {
		t.Errorf("typing during the handoff announced %+v, want the customer typing at %v", e, start)
	}
	typed() // again at once: not announced
	clock.Store(3)
	typed() // a typing interval later: announced
	if e := eventstest.Next(t, sub); e.Kind != events.KindTyping || !e.At.Equal(start.Add(3*time.Second)) {
		t.Errorf("typing after the interval announced %+v, want the customer typing 3s later", e)
	}

	typing := func(role tandem.Role) {
		t.Helper()
		if err := f.bus.Publish(t.Context(), events.Event{Topic: conv, Kind: events.KindTyping, Role: role, At: start}); err != nil {
			t.Fatal(err)
		}
	}
	typing(tandem.RoleAgent)
	if got := c.next(); got.Type != "typing" || got.Role != string(tandem.RoleAgent) {
		t.Errorf("agent typing pushed %+v, want a typing frame of the agent", got)
	}
	// The visitor's own typing is not echoed: the next frame is the agent's reply.
	typing(tandem.RoleCustomer)
	m := f.world.agent(conv, "Hi, Ann here.")
	f.publish(t, conv, events.KindMessage, m.ID)
	if got := c.next(); got.Type != "message" {
		t.Errorf("after the visitor's own typing got %+v, want the agent's reply", got)
	}
}
