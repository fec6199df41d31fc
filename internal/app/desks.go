package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/web/inbox"
)

// SlackDeskPath is where the Slack app of the agents' desk sends both interactivity
// (button clicks) and Events API requests (thread replies).
const SlackDeskPath = "/desks/slack"

// desks are the configured agents' desks in chat tools; the web inbox is mounted in build.
type desks struct {
	slack *slackdesk.Desk // nil without desks.slack
}

// buildDesks makes the configured desks over the app's store.
func (a *App) buildDesks() error {
	k := a.cfg.Desks.Slack
	if k == nil {
		return nil
	}
	opts := []slackdesk.Option{slackdesk.WithLogger(a.logger), slackdesk.WithSurveys(a.registry.Survey), slackdesk.WithEvents(a.bus),
		slackdesk.WithQueues(a.queues)}
	// Who may act in Slack follows the staff accounts: with accounts, only their agents,
	// supervisors and admins; open (the demo) lets any member of the channel in.
	if a.cfg.StaffAuthMode() == config.StaffAuthAccounts {
		opts = append(opts, slackdesk.WithStaffAccounts())
	}
	if k.APIURL != "" {
		opts = append(opts, slackdesk.WithAPIURL(k.APIURL))
	}
	d, err := slackdesk.New(slackdesk.Config{Channel: k.Channel, BotToken: k.BotToken,
		SigningSecret: k.SigningSecret, InboxURL: k.InboxURL}, a.store, opts...)
	if err != nil {
		return fmt.Errorf("slack desk: %w", err)
	}
	a.desks.slack = d
	return nil
}

// deskOptions tell the engine's desks about new tickets and customer messages to relay: the
// web inbox (live events for its open pages) and the Slack desk when configured.
func (a *App) deskOptions() []bots.Option {
	all := deskList{inbox.NewDesk(a.bus, time.Now)}
	if a.desks.slack != nil {
		all = append(all, a.desks.slack)
	}
	return []bots.Option{bots.WithDesk(all)}
}

// deskList tells every desk of the list, in order; one desk's error does not keep the
// news from the others.
type deskList []bots.Desk

// TicketOpened tells every desk about the new ticket.
func (l deskList) TicketOpened(ctx context.Context, conv *tandem.Conversation, ticketID string) error {
	var errs []error
	for _, d := range l {
		errs = append(errs, d.TicketOpened(ctx, conv, ticketID))
	}
	return errors.Join(errs...)
}

// Relay hands the customer's message to every desk.
func (l deskList) Relay(ctx context.Context, conv *tandem.Conversation, msg *tandem.Message) error {
	var errs []error
	for _, d := range l {
		errs = append(errs, d.Relay(ctx, conv, msg))
	}
	return errors.Join(errs...)
}

// ticketWatchers are the desks the web inbox tells about its claims, closes and give-backs.
func (a *App) ticketWatchers() []inbox.TicketWatcher {
	if a.desks.slack == nil {
		return nil
	}
	return []inbox.TicketWatcher{a.desks.slack}
}

// mountDesks routes the desks' webhooks. They are not behind the staff guard: the Slack
// desk checks Slack's signature, and knows its agents by their Slack profile's email (staff
// accounts only, with staff_auth: accounts).
func (a *App) mountDesks() {
	if a.desks.slack != nil {
		a.web.Mount("POST "+SlackDeskPath, a.desks.slack.Handler())
	}
}
