package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

// runOutbound asks a running server to write first to a customer: a message, a named
// response, a flow or a template, on a chosen channel (POST /api/v1/bots/{bot}/outbound). Going through
// the server keeps opt-outs, quiet hours and rate limits in one place.
func runOutbound(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem outbound")
	server := fs.String("server", envDefault(env, "TANDEM_SERVER", "http://127.0.0.1:8080"), "server base URL (env TANDEM_SERVER)")
	bot := fs.String("bot", "demo", "bot id")
	channel := fs.String("channel", "sms", "channel to write on: sms, whatsapp, webchat, slack, discord, email, rest")
	to := fs.String("to", "", "the customer's id on that channel (phone number, user id)")
	text := fs.String("text", "", "message text")
	response := fs.String("response", "", "name of one of the bot's responses")
	flow := fs.String("flow", "", "name of a flow to start")
	template := fs.String("template", "", "name of one of the bot's templates on the channel (WhatsApp outside its 24-hour window)")
	reason := fs.String("reason", "", "why (recorded with the decision)")
	var slots slotFlag
	fs.Var(&slots, "slot", "slot for the flow or templates, name=value (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key := env.Getenv("TANDEM_API_KEY")
	if key == "" {
		return fmt.Errorf("%w: set TANDEM_API_KEY to one of the server's TANDEM_API_KEYS", errUsage)
	}
	req := web.OutboundRequest{Channel: tandem.Channel(*channel), ExternalID: *to, Text: *text,
		Response: *response, Flow: *flow, Template: *template, Slots: slots.m, Reason: *reason}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	url := strings.TrimRight(*server, "/") + "/api/v1/bots/" + *bot + "/outbound"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(hreq)
	if err != nil {
		return fmt.Errorf("outbound: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("outbound: server said %s: %s", resp.Status, bytes.TrimSpace(out))
	}
	_, err = env.Stdout.Write(append(bytes.TrimSpace(out), '\n'))
	return err
}

// slotFlag collects repeated name=value flags.
type slotFlag struct{ m map[string]string }

func (s *slotFlag) String() string { return fmt.Sprint(s.m) }

func (s *slotFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[name] = value
	return nil
}
