package webchat_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/events"
)

// TestChat: a message goes to the engine as a web chat message from the cookie's visitor,
// and the turn's replies come back with citations and quick replies.
func TestChat(t *testing.T) {
	t.Parallel()
	f := setup(t)
	jar := newJar(t)
	c, tr := f.dial(t, jar, "bot=demo")
	if !tr.Reset || len(tr.Messages) != 0 || tr.ConversationID != "" {
		t.Errorf("a new visitor's transcript = %+v, want an empty reset", tr)
	}
	got := c.say("  How long does shipping take? ", "c-1")
	if got.Type != "turn" || got.ID != "c-1" || got.ConversationID == "" || len(got.Replies) != 1 {
		t.Fatalf("turn = %+v", got)
	}
	r := got.Replies[0]
	if r.Text != "Shipping takes 3 days." || len(r.Citations) != 1 || r.Citations[0] != citation ||
		len(r.QuickReplies) != 1 || r.QuickReplies[0].Payload != "Where is my order?" {
		t.Errorf("reply = %+v, want the text, its citation and quick reply", r)
	}
	if st := c.next(); st.Type != "status" || st.Status != string(tandem.StatusOpen) {
		t.Errorf("after the first turn got %+v, want status open", st)
	}
	var cookie *http.Cookie
	for _, ck := range c.res.Cookies() {
		if ck.Name == webchat.CookieName {
			cookie = ck
		}
	}
	in := f.world.inbound()[0]
	if in.Channel != tandem.ChannelWebChat || in.BotID != "demo" || !strings.HasPrefix(in.ExternalID, "web-") ||
		in.Text != "How long does shipping take?" || in.ProviderID != in.ExternalID+":c-1" {
		t.Errorf("engine got %+v, want a trimmed web chat message from the visitor with a scoped provider id", in)
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Path != "/" || strings.Contains(cookie.Value, in.ExternalID) {
		t.Errorf("visitor cookie %+v must be HttpOnly and signed (the id base64-encoded)", cookie)
	}

	// A second tab of the same browser is the same visitor and sees the conversation.
	_, tr2 := f.dial(t, jar, "bot=demo")
	if tr2.ConversationID != got.ConversationID || len(tr2.Messages) != 2 || tr2.Messages[0].ClientID != "c-1" {
		t.Errorf("second tab's transcript = %+v, want the conversation with the client id of the customer's message", tr2)
	}
	// Another browser is another visitor.
	_, tr3 := f.dial(t, newJar(t), "bot=demo")
	if tr3.ConversationID != "" {
		t.Errorf("another browser sees conversation %q", tr3.ConversationID)
	}
}

// TestResend: a message resent after a reconnect is dropped by the engine, and the
// reconnected client gets only what it had not seen.
func TestResend(t *testing.T) {
	t.Parallel()
	f := setup(t)
	jar := newJar(t)
	c, _ := f.dial(t, jar, "bot=demo")
	first := c.say("one", "c-1")
	c.next() // status open
	second := c.say("two", "c-2")
	_ = c.conn.CloseNow()

	c2, tr := f.dial(t, jar, "bot=demo&conversation="+first.ConversationID+"&after="+first.LastID)
	if tr.Reset || len(tr.Messages) != 2 || tr.Messages[0].Text != "two" || tr.Messages[0].ClientID != "c-2" ||
		tr.Messages[1].Role != tandem.RoleBot || tr.LastID != second.LastID {
		t.Errorf("transcript after %s = %+v, want only the second exchange", first.LastID, tr)
	}
	dup := c2.say("two", "c-2")
	if dup.Type != "turn" || !dup.Duplicate || len(dup.Replies) != 0 {
		t.Errorf("resent message answered %+v, want a duplicate turn", dup)
	}
	if n := len(f.world.msgs[first.ConversationID]); n != 4 {
		t.Errorf("conversation has %d messages, want 4 (the resend dropped)", n)
	}
	// An unknown cursor gets the whole transcript again.
	_, full := f.dial(t, jar, "bot=demo&after=nope")
	if !full.Reset || len(full.Messages) != 4 {
		t.Errorf("transcript after an unknown cursor = %+v, want all 4 messages with reset", full)
	}
}

// TestLive: once a human has the conversation, agent replies and status changes published on
// the bus are pushed to the socket; after a close, the next message starts a new
// conversation that is followed too.
func TestLive(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c, _ := f.dial(t, newJar(t), "bot=demo")
	turn := c.say("human", "c-1")
	conv := turn.ConversationID
	if st := c.next(); st.Type != "status" || st.Status != string(tandem.StatusHandoff) {
		t.Fatalf("after asking for a human got %+v, want status handoff", st)
	}
	m := f.world.agent(conv, "Hi, Ann here.")
	f.publish(t, conv, events.KindMessage, m.ID)
	got := c.next()
	if msg := got.message(t); got.Type != "message" || msg.Role != tandem.RoleAgent || msg.Text != "Hi, Ann here." || got.LastID != m.ID {
		t.Errorf("pushed %+v, want the agent's reply", got)
	}
	// Relayed customer messages have no bot reply; the agent's next reply still arrives.
	if relay := c.say("thanks", "c-2"); relay.Type != "turn" || len(relay.Replies) != 0 {
		t.Errorf("relayed message answered %+v, want a turn without replies", relay)
	}
	f.world.setStatus(conv, tandem.StatusClosed)
	f.publish(t, conv, events.KindStatus, "")
	if st := c.next(); st.Type != "status" || st.Status != string(tandem.StatusClosed) || st.ConversationID != conv {
		t.Errorf("after closing got %+v, want status closed", st)
	}
	again := c.say("hello again", "c-3")
	if again.ConversationID == conv || len(again.Replies) != 1 {
		t.Fatalf("message after close answered %+v, want a new conversation", again)
	}
	c.next() // status open of the new conversation
	m2 := f.world.agent(again.ConversationID, "Still here.")
	f.publish(t, conv, events.KindMessage, "old-topic") // the old conversation is not followed any more
	f.publish(t, again.ConversationID, events.KindMessage, m2.ID)
	if got := c.next(); got.Type != "message" || got.message(t).Text != "Still here." {
		t.Errorf("pushed %+v, want the new conversation's message", got)
	}
}

// TestLiveStatusFirst: a status change published with a message (an agent closes the
// ticket and the bot asks how it went) reaches the socket status first, then the message.
func TestLiveStatusFirst(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c, _ := f.dial(t, newJar(t), "bot=demo")
	conv := c.say("human", "c-1").ConversationID
	c.next() // status handoff
	f.world.setStatus(conv, tandem.StatusOpen)
	m := f.world.agent(conv, "How did we do?")
	f.publish(t, conv, events.KindStatus, "")
	if st := c.next(); st.Type != "status" || st.Status != string(tandem.StatusOpen) {
		t.Fatalf("first frame %+v, want status open", st)
	}
	if got := c.next(); got.Type != "message" || got.message(t).ID != m.ID {
		t.Errorf("second frame %+v, want the message", got)
	}
}

// TestBadFrames: a refused frame gets an error frame and the socket keeps working; a frame
// over the size limit closes it.
func TestBadFrames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		typ  websocket.MessageType
		data string
		code string
	}{
		{"ErrBinary", websocket.MessageBinary, `{"type":"message","text":"hi","id":"1"}`, webchat.CodeBadFrame},
		{"ErrNotJSON", websocket.MessageText, `hi`, webchat.CodeBadFrame},
		{"ErrUnknownType", websocket.MessageText, `{"type":"presence"}`, webchat.CodeUnknownType},
		{"ErrEmpty", websocket.MessageText, `{"type":"message","text":" ","id":"1"}`, tandem.EINVALID},
		{"ErrTooLarge", websocket.MessageText, `{"type":"message","text":"` + strings.Repeat("a", 65) + `","id":"1"}`, tandem.ETOOLARGE},
		{"ErrEngine", websocket.MessageText, `{"type":"message","text":"boom","id":"1"}`, tandem.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			c, _ := f.dial(t, newJar(t), "bot=demo")
			c.send(tt.typ, tt.data)
			got := c.next()
			if got.Type != "error" || got.Code != tt.code || len(got.Message) < 3 || strings.Contains(string(got.Message), "secret") {
				t.Errorf("answer = %+v %s, want a user-safe error %q", got, got.Message, tt.code)
			}
			if ok := c.say("still there?", "2"); ok.Type != "turn" {
				t.Errorf("after the bad frame got %+v, want the socket to keep working", ok)
			}
		})
	}
	t.Run("ErrFrameOverLimit", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		c, _ := f.dial(t, newJar(t), "bot=demo")
		c.send(websocket.MessageText, strings.Repeat("x", 8*64+1025))
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_, _, err := c.conn.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Errorf("read after an oversized frame: %v, want close status 1009", err)
		}
	})
}

// TestHandshake: only same-origin browsers with a valid bot connect; a forged cookie gets a
// new visitor.
func TestHandshake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		query  string
		header http.Header
		status int
	}{
		{"ErrCrossOrigin", "bot=demo", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"ErrBadBot", "bot=../x", nil, http.StatusBadRequest},
		{"ErrLongCursor", "bot=demo&after=" + strings.Repeat("x", 300), nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + webchat.Path + "?" + tt.query
			conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: tt.header})
			if err == nil {
				_ = conn.CloseNow()
				t.Fatal("handshake accepted")
			}
			if res == nil || res.StatusCode != tt.status {
				t.Errorf("handshake answered %v (%v), want %d", res, err, tt.status)
			}
		})
	}
	t.Run("OKSameOrigin", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + webchat.Path
		conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {f.srv.URL}}})
		if err != nil {
			t.Fatalf("same-origin handshake: %v", err)
		}
		_ = conn.CloseNow()
	})
	t.Run("ErrForgedCookie", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		jar := newJar(t)
		c, _ := f.dial(t, jar, "bot=demo")
		c.say("hi", "1")
		real := visitorCookie(t, jar, f.srv.URL)
		forged := *real
		forged.Value = real.Value[:len(real.Value)-2] + "xx"
		if strings.HasSuffix(real.Value, "xx") {
			forged.Value = real.Value[:len(real.Value)-2] + "yy"
		}
		jar2 := newJar(t)
		u := mustURL(t, f.srv.URL)
		jar2.SetCookies(u, []*http.Cookie{&forged})
		_, tr := f.dial(t, jar2, "bot=demo")
		if tr.ConversationID != "" || visitorCookie(t, jar2, f.srv.URL).Value == forged.Value {
			t.Errorf("a forged cookie saw conversation %q or kept its value", tr.ConversationID)
		}
	})
}

// TestClose: closing the handler ends open sessions (browsers reconnect elsewhere) and
// refuses new ones.
func TestClose(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c, _ := f.dial(t, newJar(t), "bot=demo")
	f.handler.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, _, err := c.conn.Read(ctx); err == nil {
		t.Error("session still open after Close")
	}
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + webchat.Path
	if conn, res, err := websocket.Dial(ctx, u, nil); err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		if conn != nil {
			_ = conn.CloseNow()
		}
		t.Errorf("dial after Close: %v, %v; want 503", res, err)
	}
}
