package webchat_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/internal/signed"
)

// dialEmbed connects as the embed does: no cookie jar (the browser sends no cookie to a
// cross-site iframe), the embed subprotocol and, when token is set, the visitor token.
func (f *fixture) dialEmbed(t *testing.T, token string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	protocols := []string{webchat.EmbedProtocol}
	if token != "" {
		protocols = append(protocols, webchat.VisitorProtocolPrefix+token)
	}
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + webchat.Path + "?bot=demo"
	conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: protocols, HTTPHeader: header})
	if err == nil {
		t.Cleanup(func() { _ = conn.CloseNow() })
	}
	return conn, res, err
}

// embedClient dials as the embed and reads the transcript.
func (f *fixture) embedClient(t *testing.T, token string) (*client, frame) {
	t.Helper()
	conn, res, err := f.dialEmbed(t, token, nil)
	if err != nil {
		t.Fatalf("dial as the embed: %v", err)
	}
	c := &client{t: t, conn: conn, res: res}
	tr := c.next()
	if tr.Type != "transcript" {
		t.Fatalf("first frame = %+v, want the transcript", tr)
	}
	return c, tr
}

// TestEmbedVisitorToken: the embed gets its visitor's signed token in the transcript and,
// offering it back without any cookie, is the same visitor with the same conversation.
// The chat page, which keeps its visitor in the HttpOnly cookie, never sees a token.
func TestEmbedVisitorToken(t *testing.T) {
	t.Parallel()
	f := setup(t)

	c, tr := f.embedClient(t, "")
	if got := c.res.Header.Get("Sec-WebSocket-Protocol"); got != webchat.EmbedProtocol {
		t.Errorf("selected subprotocol = %q, want %q", got, webchat.EmbedProtocol)
	}
	if tr.VisitorToken == "" || strings.Contains(tr.VisitorToken, ",") {
		t.Fatalf("transcript visitor token = %q, want a token usable as a subprotocol", tr.VisitorToken)
	}
	if got := c.say("How long does shipping take?", "c1"); got.Type != "turn" {
		t.Fatalf("say: %+v, want a turn", got)
	}
	first := f.world.inbound()[0].ExternalID

	again, tr2 := f.embedClient(t, tr.VisitorToken)
	if tr2.ConversationID == "" || len(tr2.Messages) != 2 || tr2.VisitorToken != tr.VisitorToken {
		t.Fatalf("reconnect with the token: transcript %+v, want the conversation's 2 messages and the same token", tr2)
	}
	if got := again.say("thanks", "c2"); got.Type != "turn" {
		t.Fatalf("say again: %+v, want a turn", got)
	}
	if in := f.world.inbound(); in[1].ExternalID != first {
		t.Errorf("second visit chatted as %q, want the token's visitor %q", in[1].ExternalID, first)
	}

	_, page := f.dial(t, newJar(t), "bot=demo")
	if page.VisitorToken != "" {
		t.Errorf("the chat page got a visitor token %q; its visitor must stay in the HttpOnly cookie", page.VisitorToken)
	}
}

// TestEmbedBadToken: a token not signed with the server's secret (forged for another
// visitor's id), tampered with, expired or not a token at all is refused: the socket gets
// a new visitor with a fresh token, sees nothing of the victim's conversation and chats
// under the new id.
func TestEmbedBadToken(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	f := setup(t, func(c *webchat.Config) { c.Now, c.VisitorTTL = clock.Now, time.Hour })
	victim, tr := f.embedClient(t, "")
	if got := victim.say("my address is 1 Main St", "v1"); got.Type != "turn" {
		t.Fatalf("victim: %+v, want a turn", got)
	}
	victimID := f.world.inbound()[0].ExternalID
	forged := signed.New([]byte("not-the-server-secret")).Seal("visitor", victimID, clock.Now().Add(time.Hour))
	otherPurpose := signed.New([]byte("test-secret")).Seal("agent", victimID, clock.Now().Add(time.Hour))
	// The victim's own token with its expiry pushed out a year: the MAC no longer matches.
	parts := strings.Split(tr.VisitorToken, ".")
	parts[1] = strconv.FormatInt(clock.Now().Add(365*24*time.Hour).Unix(), 10)
	tampered := strings.Join(parts, ".")

	tests := []struct{ name, token string }{
		{"ErrForged", forged},
		{"ErrOtherPurpose", otherPurpose},
		{"ErrTampered", tampered},
		{"ErrGarbage", "not.a.token"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, got := f.embedClient(t, tt.token)
			if got.ConversationID != "" || len(got.Messages) != 0 || got.VisitorToken == "" || got.VisitorToken == tt.token {
				t.Fatalf("transcript %+v: want an empty one with a new token", got)
			}
			if r := c.say("hello", "x"); r.Type != "turn" {
				t.Fatalf("say: %+v, want a turn", r)
			}
			in := f.world.inbound()
			if ext := in[len(in)-1].ExternalID; ext == victimID || ext == "" {
				t.Errorf("message %d chatted as %q, want a new visitor, not %q", i, ext, victimID)
			}
		})
	}

	t.Run("ErrExpired", func(t *testing.T) {
		clock.Add(2 * time.Hour)
		_, got := f.embedClient(t, tr.VisitorToken)
		if got.ConversationID != "" || got.VisitorToken == tr.VisitorToken {
			t.Errorf("expired token: transcript %+v, want a new visitor", got)
		}
	})
}

// TestEmbedOrigin: a page of another origin cannot open the socket, with or without the
// embed's subprotocol and a stolen token; the embed's iframe, a document of the server's
// own origin, can.
func TestEmbedOrigin(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, tr := f.embedClient(t, "")
	tests := []struct {
		name, origin string
		token        string
		ok           bool
	}{
		{"OKOwnOrigin", f.srv.URL, tr.VisitorToken, true},
		{"ErrOtherOrigin", "https://shop.example.com", "", false},
		{"ErrOtherOriginWithToken", "https://shop.example.com", tr.VisitorToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res, err := f.dialEmbed(t, tt.token, http.Header{"Origin": {tt.origin}})
			if tt.ok && err != nil {
				t.Fatalf("handshake from %s: %v, want accepted", tt.origin, err)
			}
			if !tt.ok && (err == nil || res == nil || res.StatusCode != http.StatusForbidden) {
				t.Fatalf("handshake from %s: %v %v, want 403", tt.origin, res, err)
			}
		})
	}
}
