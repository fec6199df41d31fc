package bots_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

func writeBot(t *testing.T, root, greeting string) {
	t.Helper()
	files := map[string]string{
		"mini/bot.yaml":       "id: mini\nname: Mini\n",
		"mini/intents.yaml":   "intents:\n  - name: greet\n    examples: [hi, hello, hey there, good morning]\n    response: greet\n  - name: size\n    examples: [what size am I, which size should I pick, sizing help]\n    flow: size\n",
		"mini/responses.yaml": "responses:\n  greet:\n    - text: '" + greeting + "{{if .Profile.name}} {{.Profile.name}}{{end}}!'\n",
		"mini/entities.yaml":  "lists:\n  size: {small: [s], large: [l]}\n",
		"mini/flows/size.yaml": "name: size\nsteps:\n  - ask: size\n    type: list:size\n    prompt: Small or large?\n" +
			"  - say: 'You picked {{.Slots.size}}.'\n    set_profile: {size: '{{.Slots.size}}'}\n    end: true\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReloadKeepsConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	writeBot(t, root, "Hello")
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := bots.NewRegistry(bots.RegistryConfig{})
	if err := reg.LoadDir(ctx, root); err != nil {
		t.Fatal(err)
	}
	e := bots.New(st, reg)
	say := func(text string) *tandem.Turn {
		t.Helper()
		turn, err := e.HandleMessage(ctx, tandem.Inbound{BotID: "mini", Channel: tandem.ChannelWebChat, ExternalID: "v", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return turn
	}
	first := say("which size should I pick")
	if first.Decision.Flow != "size" || !strings.Contains(joined(first), "Small or large?") {
		t.Fatalf("first turn: %+v", first)
	}
	if _, err := st.UpdateCustomer(ctx, first.CustomerID, storage.CustomerUpdate{Profile: map[string]string{"name": "Ana"}}); err != nil {
		t.Fatal(err)
	}

	// A broken edit keeps the running definition.
	if err := os.WriteFile(filepath.Join(root, "mini/bot.yaml"), []byte("id: mini\nbogus: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := reg.Reload(ctx); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("Reload of a broken bot = %v", err)
	}
	writeBot(t, root, "Howdy")
	if err := reg.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// The flow in progress survives the reload: its state is in the store.
	if got := joined(say("large please")); !strings.Contains(got, "You picked large.") {
		t.Fatalf("after reload: %q", got)
	}
	if got := joined(say("hi")); got != "Howdy Ana!\n" {
		t.Fatalf("greeting after reload = %q, want the new template with the profile name", got)
	}
	c, err := st.FindCustomerByID(ctx, first.CustomerID)
	if err != nil || c.Profile["size"] != "large" {
		t.Fatalf("profile = %v, %v; want size set by the flow", c, err)
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := t.TempDir()
	writeBot(t, root, "Hello")
	reg := bots.NewRegistry(bots.RegistryConfig{})
	if err := reg.LoadDir(ctx, root); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- reg.Watch(ctx, root) }()
	greeting := func() string {
		b, _ := reg.Get("mini")
		return b.Def.Responses["greet"].Variations[0].Text.Source
	}
	// Rewrite every second until the watcher (which may still be starting) picks the
	// change up; each write restarts its debounce.
	for i := 0; !strings.HasPrefix(greeting(), "Howdy"); i++ {
		if i == 400 {
			t.Fatalf("watch did not reload; greeting %q", greeting())
		}
		if i%20 == 0 {
			writeBot(t, root, "Howdy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
