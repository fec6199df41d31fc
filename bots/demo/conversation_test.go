package demo_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// conversation is the format of bot/tests/*.yaml (the evals format).
type conversation struct {
	Name  string `yaml:"name"`
	Turns []struct {
		User   string `yaml:"user"`
		Expect struct {
			Intent   string `yaml:"intent"`
			Cites    string `yaml:"cites"`
			Contains string `yaml:"contains"`
			Handoff  *bool  `yaml:"handoff"`
			Decision string `yaml:"decision"`
		} `yaml:"expect"`
	} `yaml:"turns"`
}

// notifier accepts one-time codes; the conversation tests do not read them.
type notifier struct{}

func (notifier) SendCode(ctx context.Context, _ string, ch tandem.Channel, addr, code string) error {
	return nil
}

// TestConversations plays every bot/tests/*.yaml conversation through the real engine (offline
// NLU, SQLite store, offline retrieval, demo actions) and checks each turn's expectations.
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

	files, err := fs.Glob(demo.FS, demo.Root+"/tests/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("%d conversation tests, want at least 10", len(files))
	}
	for _, file := range files {
		raw, err := fs.ReadFile(demo.FS, file)
		if err != nil {
			t.Fatal(err)
		}
		var c conversation
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		name := strings.TrimSuffix(path.Base(file), ".yaml")
		t.Run("OK/"+name, func(t *testing.T) {
			// The engine shares one store; turns of a conversation must stay in order.
			for i, tu := range c.Turns {
				turn, err := e.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelWebChat,
					ExternalID: "test-" + name, Text: tu.User})
				if err != nil {
					t.Fatalf("turn %d %q: %v", i, tu.User, err)
				}
				var texts, cites []string
				for _, r := range turn.Replies {
					texts = append(texts, r.Text)
					for _, c := range r.Citations {
						cites = append(cites, path.Base(c.DocID))
					}
				}
				got := strings.Join(texts, " | ")
				where := func() string {
					return fmt.Sprintf("turn %d %q (intent %s %.2f, decision %s: %s) replied %q", i, tu.User,
						turn.Annotations.Intent.Name, turn.Annotations.Intent.Confidence, turn.Decision.Kind, turn.Decision.Reason, got)
				}
				x := tu.Expect
				if x.Intent != "" && turn.Annotations.Intent.Name != x.Intent {
					t.Errorf("%s: want intent %s", where(), x.Intent)
				}
				if x.Decision != "" && string(turn.Decision.Kind) != x.Decision {
					t.Errorf("%s: want decision %s", where(), x.Decision)
				}
				if x.Contains != "" && !strings.Contains(strings.ToLower(got), strings.ToLower(x.Contains)) {
					t.Errorf("%s: want it to contain %q", where(), x.Contains)
				}
				if x.Cites != "" && !slices.Contains(cites, x.Cites) {
					t.Errorf("%s: cites %v, want %s", where(), cites, x.Cites)
				}
				if x.Handoff != nil && (turn.Handoff != nil) != *x.Handoff {
					t.Errorf("%s: handoff = %v, want %v", where(), turn.Handoff != nil, *x.Handoff)
				}
			}
		})
	}
}
