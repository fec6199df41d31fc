package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testLastAdmin covers UpdateAgent's refusal to demote the only admin. Its subtests run
// in order on a store of their own: they count every admin in it.
func testLastAdmin(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	n := 0
	newAdmin := func(t *testing.T) *tandem.Agent {
		t.Helper()
		n++
		a := &tandem.Agent{Name: fmt.Sprint("Admin ", n), Email: fmt.Sprintf("admin-%d@example.com", n), Role: tandem.AgentRoleAdmin}
		must(t, s.CreateAgent(ctx, a))
		return a
	}
	demote := func(id string) (*tandem.Agent, error) {
		return s.UpdateAgent(ctx, id, storage.AgentUpdate{Role: ptr(tandem.AgentRoleSupervisor)})
	}
	var last *tandem.Agent
	t.Run("ErrConflict", func(t *testing.T) {
		last = newAdmin(t)
		_, err := demote(last.ID)
		wantCode(t, err, tandem.ECONFLICT)
		if got, want := tandem.ErrorMessage(err), tandem.ErrorMessage(storage.LastAdmin(last.Email)); got != want {
			t.Errorf("message %q, want %q", got, want)
		}
		got, err := s.FindAgentByID(ctx, last.ID)
		must(t, err)
		if got.Role != tandem.AgentRoleAdmin {
			t.Errorf("role = %s after a refused demotion, want admin", got.Role)
		}
		// Other changes to the last admin, and keeping the role, are fine.
		if _, err := s.UpdateAgent(ctx, last.ID, storage.AgentUpdate{Role: ptr(tandem.AgentRoleAdmin), Capacity: ptr(3), Name: ptr("Root")}); err != nil {
			t.Errorf("update the last admin keeping the role: %v", err)
		}
		// Demoting a non-admin or an unknown agent is not the rule's business.
		other := &tandem.Agent{Email: "not-admin@example.com", Role: tandem.AgentRoleAgent}
		must(t, s.CreateAgent(ctx, other))
		if _, err := demote(other.ID); err != nil {
			t.Errorf("change a non-admin's role: %v", err)
		}
		_, err = demote("missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("OK", func(t *testing.T) {
		second := newAdmin(t)
		if _, err := demote(last.ID); err != nil {
			t.Fatalf("demote an admin while another is left: %v", err)
		}
		last = second
	})
	t.Run("Race", func(t *testing.T) {
		// The only two admins demote each other at once, a few times over: exactly one
		// succeeds each time.
		for round := range 5 {
			pair := []*tandem.Agent{last, newAdmin(t)}
			errs := make([]error, len(pair))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, a := range pair {
				wg.Go(func() {
					<-start
					_, errs[i] = demote(a.ID)
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch tandem.ErrorCode(err) {
				case "":
					won++
				case tandem.ECONFLICT:
					last = pair[i]
				default:
					t.Fatalf("round %d: demote %d: %v", round, i, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d demotions succeeded, want exactly 1", round, won)
			}
			agents, err := s.ListAgents(ctx)
			must(t, err)
			admins := 0
			for _, a := range agents {
				if a.Role == tandem.AgentRoleAdmin {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("round %d: %d admins left, want 1", round, admins)
			}
		}
	})
}
