package demo_test

import (
	"context"
	"net/http/httptest"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/evals/conversation"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// notifier accepts one-time codes; the conversation tests do not read them.
type notifier struct{}

func (notifier) SendCode(ctx context.Context, _ string, ch tandem.Channel, addr, code string) error {
	return nil
}

// TestConversations plays every bot/tests/*.yaml conversation (the evals/conversation format)
// through the real engine (offline NLU, SQLite store, offline retrieval, demo actions) and
// requires every turn of every test to pass.
func TestConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	actions := httptest.NewServer(demo.ActionsHandler("s3cret"))
	t.Cleanup(actions.Close)
	// Loading the bot applies its glossary (Japanese ⇄ English) to its collection's queries.
	kb := bots.KnowledgeBase{KB: retrieval.New(st, nil)}
	reg := bots.NewRegistry(bots.RegistryConfig{NLU: bots.OfflineNLU, Knowledge: kb,
		Getenv: func(k string) string {
			if k == "TANDEM_ACTION_SECRET_DEMO" {
				return "s3cret"
			}
			return ""
		}})
	if _, err := reg.LoadFS(ctx, demo.FS, demo.Root); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	e := bots.New(st, reg, bots.WithKnowledge(kb), bots.WithNow(func() time.Time { return now }),
		bots.WithBaseURL(actions.URL), bots.WithNotifier(notifier{}), bots.WithLinkSecret([]byte("link-secret")))

	tests, err := conversation.ParseFS(demo.FS, demo.Root+"/tests/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) < 10 {
		t.Fatalf("%d conversation tests, want at least 10", len(tests))
	}
	// The runner plays each test as a fresh customer, turns in order, through the real engine.
	res := conversation.Run(ctx, e, tests, conversation.Options{BotID: "demo", CustomerPrefix: "test"})
	for _, tr := range res.Tests {
		t.Run("OK/"+strings.TrimSuffix(path.Base(tr.File), ".yaml"), func(t *testing.T) {
			for _, tu := range tr.Turns {
				if !tu.Passed {
					t.Errorf("turn %d %q (intent %s %.2f, decision %s: %s) replied %q: %s", tu.Index+1, tu.User,
						tu.Intent, tu.Confidence, tu.Decision, tu.Reason, strings.Join(tu.Replies, " | "), strings.Join(tu.Failures, "; "))
				}
			}
		})
	}
	if res.Metrics.TestsPassed != len(tests) {
		t.Errorf("%d of %d conversation tests passed", res.Metrics.TestsPassed, len(tests))
	}
}
