package retrieval_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestAnswerCache checks when a cached answer is served and when a change is seen: a change
// made through the knowledge base is seen at once, one made behind its back (another replica
// writing to the store) after the TTL, and editors' previews are never cached.
func TestAnswerCache(t *testing.T) {
	t.Parallel()
	const question = "How do I reset my password?"
	demo := retrieval.AnswerOptions{Collections: []string{"demo"}}
	tests := []struct {
		name string
		// change unpublishes the password article in some way, then asks again with ask.
		change    func(ctx context.Context, f fixture, c *clock) error
		ask       string
		opts      retrieval.AnswerOptions
		wantFound bool // whether the password article still answers
	}{
		{name: "store change within the TTL is not seen",
			change: func(ctx context.Context, f fixture, c *clock) error {
				return f.store.SetDocumentStatus(ctx, "demo/password", tandem.DocumentDraft)
			},
			ask: "  how do I RESET my password? ", opts: demo, wantFound: true},
		{name: "store change is seen after the TTL",
			change: func(ctx context.Context, f fixture, c *clock) error {
				c.Add(time.Minute + time.Millisecond)
				return f.store.SetDocumentStatus(ctx, "demo/password", tandem.DocumentDraft)
			},
			ask: question, opts: demo, wantFound: false},
		{name: "change through the knowledge base is seen at once",
			change: func(ctx context.Context, f fixture, c *clock) error {
				return f.kb.SetDocumentStatus(ctx, "demo/password", tandem.DocumentDraft)
			},
			ask: question, opts: demo, wantFound: false},
		{name: "deletion through the knowledge base is seen at once",
			change: func(ctx context.Context, f fixture, c *clock) error {
				return f.kb.DeleteDocument(ctx, "demo/password")
			},
			ask: question, opts: demo, wantFound: false},
		{name: "other options are another question",
			change: func(ctx context.Context, f fixture, c *clock) error {
				return f.store.SetDocumentStatus(ctx, "demo/password", tandem.DocumentDraft)
			},
			ask: question, opts: retrieval.AnswerOptions{Collections: []string{"demo"}, Language: "en"}, wantFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
			f := setup(t, retrieval.WithNow(c.Now), retrieval.WithAnswerCache(100, time.Minute))
			a, err := f.kb.Answer(ctx, question, demo)
			if err != nil || !a.Found || a.Citations[0].DocID != "demo/password" {
				t.Fatalf("first answer = %+v, %v", a, err)
			}
			if err := tt.change(ctx, f, c); err != nil {
				t.Fatal(err)
			}
			a, err = f.kb.Answer(ctx, tt.ask, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Found && a.Citations[0].DocID == "demo/password"; got != tt.wantFound {
				t.Errorf("password article answers = %v, want %v (%+v)", got, tt.wantFound, a)
			}
		})
	}
}

func TestAnswerCacheOffAndPreview(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		opts []retrieval.Option
		ask  retrieval.AnswerOptions
	}{
		{"disabled", []retrieval.Option{retrieval.WithAnswerCache(0, 0)}, retrieval.AnswerOptions{Collections: []string{"demo"}}},
		{"editor preview", nil, retrieval.AnswerOptions{Collections: []string{"demo"}, IncludeDrafts: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.opts...)
			a, err := f.kb.Answer(ctx, "Which payment methods do you accept?", tt.ask)
			if err != nil || !a.Found {
				t.Fatalf("first answer = %+v, %v", a, err)
			}
			doc := a.Citations[0].DocID
			if err := f.store.DeleteDocument(ctx, doc); err != nil {
				t.Fatal(err)
			}
			a, err = f.kb.Answer(ctx, "Which payment methods do you accept?", tt.ask)
			if err != nil {
				t.Fatal(err)
			}
			if a.Found && a.Citations[0].DocID == doc {
				t.Errorf("a deleted document answered: %+v", a)
			}
		})
	}
}

func TestAnswerCacheStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	opts := retrieval.AnswerOptions{Collections: []string{"demo"}}
	for _, q := range []string{"How do I reset my password?", "how do i reset my password?", "Gift cards?"} {
		if _, err := f.kb.Answer(ctx, q, opts); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.kb.AnswerCacheStats(), (retrieval.CacheStats{Hits: 1, Misses: 2}); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}
