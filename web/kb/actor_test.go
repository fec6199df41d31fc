package kb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
	"github.com/tandemhq/tandem/web/kb"
)

type actorKey struct{}

// TestAuditActor checks that changes are audited under the editor Deps.Actor names, and
// under kb.Actor when it names no one.
func TestAuditActor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		as   string
		want string
	}{
		{"OKSignedIn", "agent:ed-1", "agent:ed-1"},
		{"OKNoOne", "", kb.Actor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kb.db"), sqlite.Config{Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			k := retrieval.New(store, nil)
			if _, err := k.Ingest(ctx, "default", []retrieval.Source{{ID: "faq/a", Title: "A question?", Body: "An answer.", Kind: ingest.KindFAQ}}, nil); err != nil {
				t.Fatal(err)
			}
			h := kb.New(kb.Config{}, kb.Deps{KB: k, Store: store, Actor: func(ctx context.Context) string {
				s, _ := ctx.Value(actorKey{}).(string)
				return s
			}})
			r := form("POST", "/kb/docs/default/faq/a/unpublish", nil)
			r = r.WithContext(context.WithValue(r.Context(), actorKey{}, tt.as))
			f := &fixture{store: store, kb: k, h: h}
			if res, body := f.do(t, r); res.StatusCode != 303 {
				t.Fatalf("unpublish: %d %s", res.StatusCode, body)
			}
			es, err := store.ListAudit(ctx, storage.AuditFilter{Action: kb.ActionUnpublish})
			if err != nil || len(es) != 1 || es[0].Actor != tt.want {
				t.Errorf("audit = %+v, %v; want one entry by %s", es, err, tt.want)
			}
		})
	}
}
