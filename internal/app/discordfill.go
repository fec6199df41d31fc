package app

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/discord"
	"github.com/tandemhq/tandem/storage"
)

const (
	// discordFillWindow is how recently a Discord conversation must have moved for its
	// customer's DMs to be looked over after a reconnect.
	discordFillWindow = 24 * time.Hour
	// discordFillUsers bounds the customers named per backfill.
	discordFillUsers = 100
	// discordFillPages bounds the conversations read per backfill, discordFillPage at a time.
	discordFillPages, discordFillPage = 5, 100
	// discordFillMessages is how many of a conversation's newest messages are searched for
	// the customer's newest stored one.
	discordFillMessages = 100
)

// discordFill is the Discord connectors' BackfillSource over the store: the customers whose
// Discord conversation with the bot moved within discordFillWindow, each with the provider id
// (Discord message id) of their newest stored message. DM channel ids are not stored; the
// connector opens them from the user id.
type discordFill struct {
	store storage.Store
	now   func() time.Time
}

var _ discord.BackfillSource = discordFill{}

// RecentDMs implements discord.BackfillSource.
func (f discordFill) RecentDMs(ctx context.Context, botID string) ([]discord.Recent, error) {
	since := f.now().Add(-discordFillWindow)
	var out []discord.Recent
	seen := map[string]bool{} // customer ids
	for page := range discordFillPages {
		convs, err := f.store.ListConversations(ctx, storage.ConversationFilter{BotID: botID,
			Limit: discordFillPage, Offset: page * discordFillPage})
		if err != nil {
			return out, fmt.Errorf("discord backfill: list conversations: %w", err)
		}
		for _, c := range convs { // the most recently updated first
			if c.UpdatedAt.Before(since) || len(out) >= discordFillUsers {
				return out, nil
			}
			if c.Channel != tandem.ChannelDiscord || seen[c.CustomerID] {
				continue
			}
			seen[c.CustomerID] = true
			recent, err := f.customer(ctx, c)
			if err != nil {
				return out, err
			}
			out = append(out, recent...)
		}
		if len(convs) < discordFillPage {
			break
		}
	}
	return out, nil
}

// customer returns c's customer's Discord identities, each with the newest stored customer
// message of c (snowflakes are ordered in time, so it bounds every identity's DM).
func (f discordFill) customer(ctx context.Context, c tandem.Conversation) ([]discord.Recent, error) {
	msgs, err := f.store.ListMessages(ctx, c.ID, storage.MessageFilter{Limit: discordFillMessages})
	if err != nil {
		return nil, fmt.Errorf("discord backfill: list messages: %w", err)
	}
	after := ""
	for i := len(msgs) - 1; i >= 0 && after == ""; i-- {
		if m := msgs[i]; m.Role == tandem.RoleCustomer && m.Channel == tandem.ChannelDiscord {
			after = m.ProviderID
		}
	}
	if after == "" {
		return nil, nil
	}
	ids, err := f.store.ListIdentities(ctx, c.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("discord backfill: list identities: %w", err)
	}
	var out []discord.Recent
	for _, id := range ids {
		if id.Channel == tandem.ChannelDiscord {
			out = append(out, discord.Recent{UserID: id.ExternalID, After: after})
		}
	}
	return out, nil
}
