package app

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/discord"
	"github.com/tandemhq/tandem/storage/sqlite"
)

func TestDiscordFill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

	// conversation stores a conversation of bot with the customer of (ch, user), last updated
	// ago, and its messages: "c:<provider id>" from the customer, anything else from the bot.
	conversation := func(bot string, ch tandem.Channel, user string, ago time.Duration, msgs ...string) string {
		t.Helper()
		cust, _, err := st.ResolveIdentity(ctx, ch, user)
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(-ago)
		c := &tandem.Conversation{BotID: bot, CustomerID: cust.ID, Channel: ch, Status: tandem.StatusClosed,
			CreatedAt: at, UpdatedAt: at}
		if err := st.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		for i, text := range msgs {
			m := &tandem.Message{ConversationID: c.ID, Role: tandem.RoleBot, Channel: ch, Text: text,
				CreatedAt: at.Add(time.Duration(i-len(msgs)) * time.Second)}
			if pid, ok := strings.CutPrefix(text, "c:"); ok {
				m.Role, m.ProviderID = tandem.RoleCustomer, pid
			}
			if err := st.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		return cust.ID
	}
	conversation("demo", tandem.ChannelDiscord, "ann", time.Hour, "c:100", "hello ann", "c:105", "anything else?")
	conversation("demo", tandem.ChannelDiscord, "ann", 2*time.Hour, "c:90") // older: ann's newer one counts
	conversation("demo", tandem.ChannelDiscord, "eve", 2*time.Hour, "a bot message only")
	conversation("demo", tandem.ChannelSMS, "+15550100", 3*time.Hour, "c:SM1")
	conversation("other", tandem.ChannelDiscord, "dan", time.Hour, "c:200")
	conversation("demo", tandem.ChannelDiscord, "bob", 25*time.Hour, "c:50") // before the window

	got, err := discordFill{store: st, now: func() time.Time { return now }}.RecentDMs(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if want := []discord.Recent{{UserID: "ann", After: "105"}}; !slices.Equal(got, want) {
		t.Errorf("RecentDMs = %+v, want %+v", got, want)
	}
}
