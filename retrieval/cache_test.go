package retrieval_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
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

// gatedStore is a knowledge store with no documents whose vector searches wait for gate.
type gatedStore struct {
	storage.KnowledgeStore
	gate     chan struct{}
	searches atomic.Int32
}

func (s *gatedStore) FindDocumentByID(context.Context, string) (*tandem.Document, error) {
	return nil, tandem.Errorf(tandem.ENOTFOUND, "not found")
}

func (s *gatedStore) SearchText(context.Context, string, storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	return nil, nil
}

func (s *gatedStore) SearchVector(context.Context, []float32, storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	s.searches.Add(1)
	<-s.gate
	return nil, nil
}

// TestAnswerCacheSharesMisses checks that customers asking the same question while its
// answer is being computed wait for that one search instead of each running their own.
func TestAnswerCacheSharesMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gatedStore{gate: make(chan struct{})}
		kb := retrieval.New(st, nil)
		opts := retrieval.AnswerOptions{Collections: []string{"demo"}}
		const askers = 8
		var wg sync.WaitGroup
		for range askers {
			wg.Go(func() {
				if _, err := kb.Answer(t.Context(), "How long does shipping take?", opts); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait() // every asker is blocked: one in the search, the others on it
		close(st.gate)
		wg.Wait()
		if got := st.searches.Load(); got != 1 {
			t.Errorf("%d searches for %d concurrent askers, want 1", got, askers)
		}
		if _, err := kb.Answer(t.Context(), "How long does shipping take?", opts); err != nil {
			t.Fatal(err)
		}
		if got := st.searches.Load(); got != 1 {
			t.Errorf("%d searches after a cached answer, want 1", got)
		}
	})
}
