package storagetest

import (
	"context"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func testAgentCredentials(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	newAgent := func(t *testing.T, email string) *tandem.Agent {
		t.Helper()
		a := &tandem.Agent{Name: email, Email: email, Role: tandem.AgentRoleAgent}
		must(t, s.CreateAgent(ctx, a))
		return a
	}
	t.Run("FindAgentCredentials/OKNew", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "cred-new@example.com")
		got, err := s.FindAgentCredentials(ctx, a.ID)
		must(t, err)
		if got.AgentID != a.ID || got.PasswordHash != "" || got.PasswordChangedAt != nil || got.SessionEpoch != 0 {
			t.Errorf("new agent's credentials = %+v, want none", got)
		}
	})
	t.Run("SetAgentPassword/OK", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "cred-set@example.com")
		got, err := s.SetAgentPassword(ctx, a.ID, "", "hash-1", when)
		must(t, err)
		if got.PasswordHash != "hash-1" || got.PasswordChangedAt == nil || got.SessionEpoch != 1 {
			t.Fatalf("after set = %+v", got)
		}
		wantTime(t, "PasswordChangedAt", *got.PasswordChangedAt, when)
		got, err = s.SetAgentPassword(ctx, a.ID, "hash-1", "hash-2", when.Add(1))
		must(t, err)
		stored, err := s.FindAgentCredentials(ctx, a.ID)
		must(t, err)
		if stored.PasswordHash != "hash-2" || stored.SessionEpoch != 2 || got.SessionEpoch != 2 {
			t.Errorf("stored = %+v, returned %+v; want hash-2 at epoch 2", stored, got)
		}
		// The agent itself is unchanged.
		found, err := s.FindAgentByID(ctx, a.ID)
		must(t, err)
		if found.Email != a.Email || found.Role != a.Role {
			t.Errorf("agent = %+v", found)
		}
	})
	t.Run("SetAgentPassword/ErrConflict", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "cred-conflict@example.com")
		_, err := s.SetAgentPassword(ctx, a.ID, "", "first", when)
		must(t, err)
		// A second use of a link made for the empty password must fail.
		_, err = s.SetAgentPassword(ctx, a.ID, "", "second", when)
		wantCode(t, err, tandem.ECONFLICT)
		got, err := s.FindAgentCredentials(ctx, a.ID)
		must(t, err)
		if got.PasswordHash != "first" || got.SessionEpoch != 1 {
			t.Errorf("credentials = %+v, want the first password kept", got)
		}
	})
	t.Run("SetAgentPassword/OneOfConcurrent", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "cred-race@example.com")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = s.SetAgentPassword(ctx, a.ID, "", "h", when) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if tandem.ErrorCode(err) != tandem.ECONFLICT {
				t.Errorf("err = %v, want conflict", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent sets succeeded, want 1", ok)
		}
	})
	t.Run("RevokeAgentSessions/OK", func(t *testing.T) {
		t.Parallel()
		a := newAgent(t, "cred-revoke@example.com")
		got, err := s.RevokeAgentSessions(ctx, a.ID)
		must(t, err)
		if got.SessionEpoch != 1 || got.PasswordHash != "" {
			t.Errorf("after revoke = %+v, want epoch 1", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindAgentCredentials(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.SetAgentPassword(ctx, "missing", "", "h", when)
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.RevokeAgentSessions(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
}
