package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

type sendRecorder struct {
	err  error
	sent []connectors.Outgoing
}

func (s *sendRecorder) Channel() tandem.Channel                  { return tandem.ChannelSMS }
func (s *sendRecorder) Handler(connectors.Receiver) http.Handler { return nil }
func (s *sendRecorder) Send(_ context.Context, o connectors.Outgoing) (string, error) {
	s.sent = append(s.sent, o)
	return "SM1", s.err
}

type codeLog struct{ codes []string }

func (l *codeLog) SendCode(_ context.Context, _ string, _ tandem.Channel, _, code string) error {
	l.codes = append(l.codes, code)
	return nil
}

func TestCodeNotifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		bot      string
		sendErr  error
		fallback bool
		code     string // error code; "" for success
		sent     int
		logged   int
	}{
		{name: "OK", bot: "demo", sent: 1},
		{name: "OKFallbackWithoutConnector", bot: "other", fallback: true, logged: 1},
		{name: "OKConnectorWinsOverFallback", bot: "demo", fallback: true, sent: 1},
		{name: "ErrNoConnector", bot: "other", code: tandem.EINVALID},
		{name: "ErrSend", bot: "demo", sendErr: errors.New("provider down"), code: tandem.EINTERNAL, sent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sms := &sendRecorder{err: tt.sendErr}
			log := &codeLog{}
			n := codeNotifier{connector: func(bot string, ch tandem.Channel) (connectors.Connector, bool) {
				return sms, bot == "demo" && ch == tandem.ChannelSMS
			}}
			if tt.fallback {
				n.fallback = log
			}
			err := n.SendCode(context.Background(), tt.bot, tandem.ChannelSMS, "+15550100", "123456")
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("error %v (code %q), want %q", err, got, tt.code)
			}
			if len(sms.sent) != tt.sent || len(log.codes) != tt.logged {
				t.Fatalf("sent %d, logged %d; want %d, %d", len(sms.sent), len(log.codes), tt.sent, tt.logged)
			}
			if tt.sent > 0 {
				o := sms.sent[0]
				if o.To != "+15550100" || o.BotID != tt.bot || !strings.Contains(o.Reply.Text, "123456") || o.IdempotencyKey == "" {
					t.Errorf("outgoing = %+v", o)
				}
			}
		})
	}
}
