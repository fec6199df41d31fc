package app

import (
	"fmt"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/handoff/slackdesk"
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
	opts := []slackdesk.Option{slackdesk.WithLogger(a.logger), slackdesk.WithSurveys(a.registry.Survey)}
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

// deskOptions tell the engine about the desk: new tickets, and customer messages to relay.
func (a *App) deskOptions() []bots.Option {
	if a.desks.slack == nil {
		return nil
	}
	return []bots.Option{bots.WithDesk(a.desks.slack)}
}

// ticketWatchers are the desks the web inbox tells about its claims, closes and give-backs.
func (a *App) ticketWatchers() []inbox.TicketWatcher {
	if a.desks.slack == nil {
		return nil
	}
	return []inbox.TicketWatcher{a.desks.slack}
}

// mountDesks routes the desks' webhooks. They are not behind the staff guard: the Slack
// desk checks Slack's signature, and its agents are the members of its channel.
func (a *App) mountDesks() {
	if a.desks.slack != nil {
		a.web.Mount("POST "+SlackDeskPath, a.desks.slack.Handler())
	}
}
