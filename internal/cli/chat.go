package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
)

// runChat talks to a bot in the terminal, showing per turn what the engine understood and
// why it answered as it did.
func runChat(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem chat")
	botID := fs.String("bot", "demo", "bot id to talk to")
	botsDir := fs.String("bots", envDefault(env, "TANDEM_BOTS_DIR", ""), "folder of bot folders (env TANDEM_BOTS_DIR); the demo bot is always available")
	db := fs.String("db", "", "SQLite file to keep conversations in (default: in memory)")
	user := fs.String("user", "terminal-user", "the customer's id on the terminal channel")
	channel := fs.String("channel", string(tandem.ChannelTerminal), "channel to write from (terminal, sms, webchat, ...)")
	quiet := fs.Bool("quiet", false, "print only the bot's replies")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path := *db
	if path == "" {
		path = ":memory:"
	}
	start := time.Now()
	le, err := newLocalEngine(ctx, env, path, printNotifier{env.Stdout}, newLogger(env, "warn"), func(reg *bots.Registry) error {
		if *botID == "demo" || *botsDir == "" {
			if _, err := reg.LoadFS(ctx, demo.FS, demo.Root); err != nil {
				return fmt.Errorf("load demo bot: %w", err)
			}
		}
		if *botsDir != "" {
			return reg.LoadDir(ctx, *botsDir)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer le.Close()
	bot, ok := le.reg.Get(*botID)
	if !ok {
		return fmt.Errorf("%w: no bot %q (have %s)", errUsage, *botID, botIDs(le.reg))
	}
	engine := le.Engine

	out := env.Stdout
	fmt.Fprintf(out, "%s (%s) ready in %s. Type a message; /quit to leave.\n", bot.Def.Name, bot.Def.ID, time.Since(start).Round(time.Millisecond))
	in := bufio.NewScanner(env.Stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	for {
		fmt.Fprint(out, "you> ")
		if !in.Scan() {
			fmt.Fprintln(out)
			return in.Err()
		}
		text := strings.TrimSpace(in.Text())
		switch text {
		case "":
			continue
		case "/quit", "/exit":
			return nil
		}
		t0 := time.Now()
		turn, err := engine.HandleMessage(ctx, tandem.Inbound{BotID: bot.Def.ID, Channel: tandem.Channel(*channel),
			ExternalID: *user, Text: text, ReceivedAt: time.Now()})
		if err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			continue
		}
		printTurn(out, turn, time.Since(t0), *quiet)
	}
}

func printTurn(w io.Writer, t *tandem.Turn, took time.Duration, quiet bool) {
	for _, r := range t.Replies {
		fmt.Fprintf(w, "bot> %s\n", strings.ReplaceAll(r.Text, "\n", "\n     "))
		if len(r.QuickReplies) > 0 {
			titles := make([]string, len(r.QuickReplies))
			for i, q := range r.QuickReplies {
				titles[i] = "[" + q.Title + "]"
			}
			fmt.Fprintf(w, "     %s\n", strings.Join(titles, " "))
		}
	}
	if len(t.Replies) == 0 && t.Decision.Kind == tandem.DecisionRelay {
		fmt.Fprintln(w, "bot> (silent: a human agent has this conversation)")
	}
	if quiet {
		return
	}
	a := t.Annotations
	fmt.Fprintf(w, "  · intent %s %.2f", a.Intent.Name, a.Intent.Confidence)
	if len(a.Intents) > 1 {
		alts := make([]string, 0, 2)
		for _, s := range a.Intents[1:min(3, len(a.Intents))] {
			alts = append(alts, fmt.Sprintf("%s %.2f", s.Name, s.Confidence))
		}
		fmt.Fprintf(w, " (then %s)", strings.Join(alts, ", "))
	}
	fmt.Fprintf(w, " · sentiment %s %+.2f · lang %s · %s\n", a.Sentiment.Label, a.Sentiment.Score, a.Language, took.Round(10*time.Microsecond))
	if len(a.Entities) > 0 {
		ents := make([]string, len(a.Entities))
		for i, e := range a.Entities {
			ents[i] = e.Type + "=" + e.Value
		}
		fmt.Fprintf(w, "  · entities %s\n", strings.Join(ents, ", "))
	}
	if len(a.PII) > 0 {
		fmt.Fprintf(w, "  · pii %s\n", strings.Join(a.PII, ", "))
	}
	d := t.Decision
	fmt.Fprintf(w, "  · decision %s", d.Kind)
	if d.Flow != "" {
		fmt.Fprintf(w, " [flow %s step %s]", d.Flow, d.Step)
	}
	fmt.Fprintf(w, ": %s\n", d.Reason)
	n := 0
	for _, r := range t.Replies {
		for _, c := range r.Citations {
			n++
			fmt.Fprintf(w, "  · source [%d] %s", n, c.Title)
			if c.URL != "" {
				fmt.Fprintf(w, " <%s>", c.URL)
			}
			fmt.Fprintln(w)
		}
	}
	if t.Handoff != nil {
		fmt.Fprintf(w, "  · handoff ticket %s queue %s: %s\n", t.Handoff.TicketID, t.Handoff.Queue, t.Handoff.Reason)
	}
}

// printNotifier "sends" one-time codes by printing them, so identity linking can be tried
// in the terminal.
type printNotifier struct{ w io.Writer }

func (p printNotifier) SendCode(ctx context.Context, _ string, ch tandem.Channel, addr, code string) error {
	fmt.Fprintf(p.w, "  · (code %s sent to %s %s)\n", code, ch, addr)
	return nil
}

func botIDs(reg *bots.Registry) string {
	var ids []string
	for _, b := range reg.List() {
		ids = append(ids, b.Def.ID)
	}
	return strings.Join(ids, ", ")
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
