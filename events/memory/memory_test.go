package memory_test

import (
	"testing"

	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/eventstest"
	"github.com/tandemhq/tandem/events/memory"
)

// TestConformance runs the events suite; replicas of one process share its one bus.
func TestConformance(t *testing.T) {
	t.Parallel()
	eventstest.Run(t, func(t *testing.T, n int) []events.Bus {
		b := memory.New(memory.Config{})
		t.Cleanup(func() { _ = b.Close() })
		bs := make([]events.Bus, n)
		for i := range bs {
			bs[i] = b
		}
		return bs
	})
}
