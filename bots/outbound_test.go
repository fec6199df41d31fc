package bots_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/storage/sqlite"
)

func TestOutboundQuietHours(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		quiet string
		at    string // UTC clock time
		code  string
	}{
		{"OKDaytime", "21:00-08:00", "12:00", ""},
		{"ErrLateEvening", "21:00-08:00", "22:30", tandem.ECONFLICT},
		{"ErrEarlyMorning", "21:00-08:00", "07:59", tandem.ECONFLICT},
		{"OKMorningEnd", "21:00-08:00", "08:00", ""},
		{"ErrSameDayWindow", "12:00-13:00", "12:30", tandem.ECONFLICT},
		{"OKNoQuietHours", "", "03:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			botYAML := "id: mini\n"
			if tt.quiet != "" {
				botYAML += "outbound:\n  quiet_hours: '" + tt.quiet + "'\n  timezone: UTC\n"
			}
			reg := bots.NewRegistry(bots.RegistryConfig{})
			if _, err := reg.LoadFS(ctx, minimalBot(map[string]string{"b/bot.yaml": botYAML}), "b"); err != nil {
				t.Fatal(err)
			}
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			at, _ := time.Parse("15:04", tt.at)
			now := time.Date(2026, 11, 24, at.Hour(), at.Minute(), 0, 0, time.UTC)
			e := bots.New(st, reg, bots.WithNow(func() time.Time { return now }))
			_, err = e.SendOutbound(ctx, bots.OutboundRequest{BotID: "mini", Channel: tandem.ChannelSMS, ExternalID: phone, Response: "greet"})
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}
