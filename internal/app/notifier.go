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
// proven, or by email when proving an email address and email is configured; directly
// rather than through the outbox: a code is a secret that expires in minutes, so it is
// neither stored nor retried later (beyond the mailer's own retries of a temporary
// failure). Channels without a connector go to fallback (the demo's log) when there is
// one, and are refused otherwise.
type codeNotifier struct {
	connector func(bot string, ch tandem.Channel) (connectors.Connector, bool)
	// email sends codes to email addresses; nil when email is not configured.
	email Mailer
	// botName is the name the email is signed with; nil or "" means none.
	botName  func(bot string) string
	fallback bots.Notifier
}

// codeSubject is the subject of a one-time code email.
const codeSubject = "Your verification code"

func (n codeNotifier) SendCode(ctx context.Context, bot string, ch tandem.Channel, address, code string) error {
	if ch == tandem.ChannelEmail && n.email != nil {
		return n.mailCode(ctx, bot, address, code)
	}
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

func (n codeNotifier) mailCode(ctx context.Context, bot, address, code string) error {
	text := fmt.Sprintf("Your verification code is %s\n\nIt is valid for 10 minutes. Type it in the chat to confirm this email address is yours.\nIf you did not ask for it, ignore this email.\n", code)
	if n.botName != nil {
		if name := n.botName(bot); name != "" {
			text += "\n-- \n" + name + "\n"
		}
	}
	if err := n.email.Send(ctx, address, codeSubject, text); err != nil {
		return fmt.Errorf("send code by email: %w", err)
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
