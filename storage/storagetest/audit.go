package storagetest

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func testAudit(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		e1 := &tandem.AuditEntry{Actor: "agent:1", Action: "ticket.claim", Subject: "t-audit", Detail: map[string]string{"queue": "q"}, At: when}
		must(t, s.AppendAudit(ctx, e1))
		e2 := &tandem.AuditEntry{Actor: "system", Action: "ticket.close", Subject: "t-audit"}
		must(t, s.AppendAudit(ctx, e2))
		if e1.ID == 0 || e2.ID <= e1.ID || e2.At.IsZero() {
			t.Fatalf("ids %d %d at %v", e1.ID, e2.ID, e2.At)
		}
		got, err := s.ListAudit(ctx, storage.AuditFilter{Subject: "t-audit"})
		must(t, err)
		if len(got) != 2 || got[0].ID != e2.ID || got[1].ID != e1.ID {
			t.Fatalf("got %+v, want newest first", got)
		}
		if got[1].Actor != "agent:1" || got[1].Detail["queue"] != "q" {
			t.Errorf("entry = %+v", got[1])
		}
		wantTime(t, "At", got[1].At, when)
		got, err = s.ListAudit(ctx, storage.AuditFilter{Subject: "t-audit", Action: "ticket.claim"})
		must(t, err)
		if len(got) != 1 || got[0].ID != e1.ID {
			t.Errorf("by action = %+v", got)
		}
		got, err = s.ListAudit(ctx, storage.AuditFilter{Limit: 1})
		must(t, err)
		if len(got) != 1 {
			t.Errorf("limit = %d entries", len(got))
		}
	})
}

func testPing(t *testing.T, s storage.Store, _ Features) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
