package app

import (
	"context"
	"log/slog"

	"github.com/tandemhq/tandem"
)

// devNotifier "delivers" one-time codes by writing them to the server log. It is wired only
// in demo mode, where no SMS or email connector is configured, so a developer trying the
// demo's account-linking flow can read the code from the terminal. It never runs in a
// configured deployment: codes are secrets.
type devNotifier struct{ logger *slog.Logger }

func (n devNotifier) SendCode(_ context.Context, channel tandem.Channel, address, code string) error {
	n.logger.Warn("demo mode: one-time code (development only, not delivered)", "channel", channel, "address", address, "code", code)
	return nil
}
