package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/connectors"
)

// codeNotifier sends one-time codes through the bot's connector on the channel being
// proven, directly rather than through the outbox: a code is a secret that expires in
// minutes, so it is neither stored nor retried later. Channels without a connector go to
// fallback (the demo's log) when there is one, and are refused otherwise.
type codeNotifier struct {
	connector func(bot string, ch tandem.Channel) (connectors.Connector, bool)
	fallback  bots.Notifier
}

func (n codeNotifier) SendCode(ctx context.Context, bot string, ch tandem.Channel, address, code string) error {
	c, ok := n.connector(bot, ch)
	if !ok {
		if n.fallback != nil {
			return n.fallback.SendCode(ctx, bot, ch, address, code)
		}
		return tandem.Errorf(tandem.EINVALID, "codes cannot be sent over %s: bot %s has no %s connector", ch, bot, ch)
	}
	text := fmt.Sprintf("Your verification code is %s. It is valid for 10 minutes. If you did not ask for it, ignore this message.", code)
	_, err := c.Send(ctx, connectors.Outgoing{IdempotencyKey: uuid.Must(uuid.NewV7()).String(), BotID: bot, To: address,
		Reply: tandem.Reply{Text: text}})
	if err != nil {
		return fmt.Errorf("send code over %s: %w", ch, err)
	}
	return nil
}

// devNotifier "delivers" one-time codes by writing them to the server log. It is wired only
// in demo mode, for channels with no connector, so a developer trying the demo's
// account-linking flow can read the code from the terminal. Codes are secrets: a configured
// channel never falls back to it.
type devNotifier struct{ logger *slog.Logger }

func (n devNotifier) SendCode(_ context.Context, _ string, channel tandem.Channel, address, code string) error {
	n.logger.Warn("demo mode: one-time code (development only, not delivered)", "channel", channel, "address", address, "code", code)
	return nil
}
