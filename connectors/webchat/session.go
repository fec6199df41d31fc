package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/storage"
)

// clockSkew is how far a message's time may lie before the newest one a session has seen
// and still be shown: replicas stamp messages with their own clocks.
const clockSkew = 5 * time.Second

// errWrite marks a failed write: the browser is gone, nothing to log.
var errWrite = errors.New("webchat: write")

// session is one connected browser. All its fields are owned by run's goroutine.
type session struct {
	h       *Handler
	c       *websocket.Conn
	bot     string
	visitor string
	// token is the visitor's signed token, sent in the transcript to the embed only.
	token string

	conv   string // the conversation shown, "" before the first message
	status tandem.ConversationStatus
	// delivered holds the ids of messages the client has (recent ones only: older ones
	// lie before since and are never listed again); since is the newest message's time and
	// lastID its id, the client's cursor.
	delivered map[string]time.Time
	since     time.Time
	lastID    string

	events      <-chan events.Event
	unsubscribe context.CancelFunc
	// typedAt is when the visitor's typing was last announced (see typing).
	typedAt time.Time
}

type inFrame struct {
	typ  websocket.MessageType
	data []byte
}

// run serves the socket until it closes or fails.
func (s *session) run(ctx context.Context, conv, after string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		if s.unsubscribe != nil {
			s.unsubscribe()
		}
	}()
	frames := make(chan inFrame)
	readErr := make(chan error, 1)
	go func() {
		for {
			typ, data, err := s.c.Read(ctx)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case frames <- inFrame{typ, data}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go s.ping(ctx, cancel)

	if err := s.resume(ctx, conv, after); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case f := <-frames:
			if err := s.handle(ctx, f); err != nil {
				return err
			}
		case e, ok := <-s.events:
			if !ok {
				// The bus closed the subscription (shutdown): keep chatting without live events.
				s.events = nil
				continue
			}
			if e.Kind == events.KindTyping {
				if e.Role == tandem.RoleAgent {
					if err := s.write(ctx, typingFrame{Type: "typing", Role: e.Role}); err != nil {
						return err
					}
				}
				continue // nothing stored changed
			}
			// Every kind, KindMissed included, means: reread the conversation.
			if err := s.refresh(ctx); err != nil {
				return err
			}
		}
	}
}

// ping keeps the connection alive and ends the session when the browser stops answering.
func (s *session) ping(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(s.h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A pong is read by the reader, which waits while a turn runs (an LLM may take a
		// while): allow a whole interval.
		pctx, pcancel := context.WithTimeout(ctx, s.h.cfg.PingInterval)
		err := s.c.Ping(pctx)
		pcancel()
		if err != nil {
			cancel()
			return
		}
	}
}

// resume finds the conversation to show, subscribes to it and sends the transcript.
func (s *session) resume(ctx context.Context, convID, after string) error {
	conv, err := s.find(ctx, convID)
	if err != nil {
		return err
	}
	tf := transcriptFrame{Type: "transcript", Reset: true, Messages: []messageJSON{}, MaxBytes: s.h.cfg.MaxMessageBytes,
		VisitorToken: s.token}
	if conv != nil {
		// Subscribe before reading, so nothing falls between the read and the first event.
		s.follow(ctx, conv.ID)
		s.status = conv.Status
		msgs, err := s.h.deps.Store.ListMessages(ctx, conv.ID, storage.MessageFilter{Limit: s.h.cfg.TranscriptLimit})
		if err != nil {
			return fmt.Errorf("webchat: transcript: %w", err)
		}
		start := 0
		for i, m := range msgs {
			if after != "" && m.ID == after {
				start, tf.Reset = i+1, false
			}
			s.mark(m)
		}
		votes, err := s.votes(ctx, conv.ID, msgs[start:])
		if err != nil {
			return err
		}
		for _, m := range msgs[start:] {
			j := s.messageJSON(m)
			if v, ok := votes[m.ID]; ok {
				j.Helpful = &v
			}
			tf.Messages = append(tf.Messages, j)
		}
		tf.ConversationID, tf.Status, tf.LastID = conv.ID, string(conv.Status), s.lastID
	}
	return s.write(ctx, tf)
}

// find returns the conversation named by the client when it is the visitor's with this bot
// (closed ones included, so a client learns its conversation closed while it was away),
// else the visitor's open conversation, else nil.
func (s *session) find(ctx context.Context, convID string) (*tandem.Conversation, error) {
	id, err := s.h.deps.Store.FindIdentity(ctx, tandem.ChannelWebChat, s.visitor)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("webchat: find visitor: %w", err)
	}
	if convID != "" {
		c, err := s.h.deps.Store.FindConversationByID(ctx, convID)
		switch {
		case err == nil && c.CustomerID == id.CustomerID && c.BotID == s.bot:
			return c, nil
		case err != nil && tandem.ErrorCode(err) != tandem.ENOTFOUND:
			return nil, fmt.Errorf("webchat: find conversation: %w", err)
		}
	}
	c, err := s.h.deps.Store.FindOpenConversation(ctx, s.bot, id.CustomerID)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("webchat: find open conversation: %w", err)
	}
	return c, nil
}

// follow makes convID the session's conversation and subscribes to its events. A bus that
// refuses is logged: the chat still works, without live agent replies until a reconnect.
func (s *session) follow(ctx context.Context, convID string) {
	if s.unsubscribe != nil {
		s.unsubscribe()
	}
	s.conv, s.status, s.events, s.unsubscribe = convID, "", nil, nil
	clear(s.delivered)
	s.since, s.lastID = time.Time{}, ""
	sctx, cancel := context.WithCancel(ctx)
	ch, err := s.h.deps.Events.Subscribe(sctx, convID)
	if err != nil {
		cancel()
		s.h.cfg.Logger.WarnContext(ctx, "webchat: subscribe to conversation events", "conversation_id", convID, "error", err)
		return
	}
	s.events, s.unsubscribe = ch, cancel
}

// handle answers one frame from the browser. Only failures to write end the session.
func (s *session) handle(ctx context.Context, f inFrame) error {
	if f.typ != websocket.MessageText {
		return s.write(ctx, errorFrame{Type: "error", Code: CodeBadFrame, Message: "send JSON text frames, not binary ones"})
	}
	fr, ferr := ParseFrame(f.data, s.h.cfg.MaxMessageBytes)
	if ferr != nil {
		return s.write(ctx, errorFrame{Type: "error", Code: ferr.Code, Message: ferr.Message, ID: ferr.ID, MessageID: ferr.MessageID})
	}
	if fr.Type == "typing" {
		s.typing(ctx)
		return nil
	}
	if fr.Type == "feedback" {
		return s.feedback(ctx, fr)
	}
	if ok, wait := s.h.visitors.Allow(s.visitor); !ok {
		return s.write(ctx, errorFrame{Type: "error", Code: CodeRateLimited, ID: fr.ID,
			Message:          "You are sending messages too fast; this one will be sent again in a moment.",
			RetryAfterMillis: max(wait.Milliseconds(), 1)})
	}
	in := tandem.Inbound{BotID: s.bot, Channel: tandem.ChannelWebChat, ExternalID: s.visitor, Text: fr.Text,
		ProviderID: s.providerID(fr.ID), ConversationID: s.conv, ReceivedAt: s.h.cfg.Now()}
	turn, err := s.h.deps.Receiver.HandleMessage(ctx, in)
	if err == nil && turn == nil {
		err = fmt.Errorf("webchat: the engine returned no turn")
	}
	if err != nil {
		if tandem.ErrorCode(err) == tandem.EINTERNAL {
			s.h.cfg.Logger.ErrorContext(ctx, "webchat: turn failed", "bot", s.bot, "conversation_id", s.conv, "error", err)
		}
		return s.write(ctx, errorFrame{Type: "error", Code: tandem.ErrorCode(err), Message: tandem.ErrorMessage(err), ID: fr.ID})
	}
	if turn.ConversationID != s.conv {
		s.follow(ctx, turn.ConversationID) // the first message, or a new conversation after a closed one
	}
	tf := turnFrame{Type: "turn", ID: fr.ID, ConversationID: turn.ConversationID, Duplicate: turn.Duplicate,
		Replies: make([]replyJSON, 0, len(turn.Replies))}
	for _, r := range turn.Replies {
		c := r.Citations
		if c == nil {
			c = []tandem.Citation{}
		}
		tf.Replies = append(tf.Replies, replyJSON{ID: r.MessageID, Text: r.Text, Citations: c, QuickReplies: r.QuickReplies})
	}
	// The turn's own messages are in the turn frame; a duplicate's were shown (or are sent
	// now) as messages.
	pending, err := s.pending(ctx, !turn.Duplicate)
	if err != nil {
		return err
	}
	tf.LastID = s.lastID
	if err := s.write(ctx, tf); err != nil {
		return err
	}
	return s.send(ctx, pending)
}

// typingInterval is how often a visitor's typing is announced at most.
const typingInterval = 3 * time.Second

// typing tells the agent that the visitor is typing, at most every typingInterval and only
// while a human has the conversation: a bot's conversations cost the bus nothing.
func (s *session) typing(ctx context.Context) {
	now := s.h.cfg.Now()
	if s.conv == "" || s.status != tandem.StatusHandoff || now.Sub(s.typedAt) < typingInterval {
		return
	}
	s.typedAt = now
	e := events.Event{Topic: s.conv, Kind: events.KindTyping, Role: tandem.RoleCustomer, At: now}
	if err := s.h.deps.Events.Publish(ctx, e); err != nil {
		s.h.cfg.Logger.WarnContext(ctx, "webchat: announce typing", "conversation_id", s.conv, "error", err)
	}
}

// refresh sends the conversation's status when it changed, then what the client has not
// seen of it.
func (s *session) refresh(ctx context.Context) error {
	if s.conv == "" {
		return nil
	}
	pending, err := s.pending(ctx, false)
	if err != nil {
		return err
	}
	return s.send(ctx, pending)
}

// pending lists the conversation's messages the client does not have and marks them as
// delivered; with ownTurn, the customer's and bot's messages are left out (the turn frame
// shows them). It also rereads the conversation's status, listed first when it changed.
func (s *session) pending(ctx context.Context, ownTurn bool) ([]any, error) {
	since := time.Time{}
	if !s.since.IsZero() {
		since = s.since.Add(-clockSkew)
	}
	msgs, err := s.h.deps.Store.ListMessages(ctx, s.conv, storage.MessageFilter{Since: since, Limit: s.h.cfg.TranscriptLimit})
	if err != nil {
		return nil, fmt.Errorf("webchat: list messages: %w", err)
	}
	var out []any
	for _, m := range msgs {
		if _, ok := s.delivered[m.ID]; ok {
			continue
		}
		s.mark(m)
		if ownTurn && (m.Role == tandem.RoleCustomer || m.Role == tandem.RoleBot) {
			continue
		}
		out = append(out, messageFrame{Type: "message", Message: s.messageJSON(m)})
	}
	if len(msgs) > 0 {
		s.lastID = msgs[len(msgs)-1].ID // the newest, even when a late-stamped one came after it
	}
	for id, at := range s.delivered {
		if at.Before(s.since.Add(-2 * clockSkew)) {
			delete(s.delivered, id)
		}
	}
	conv, err := s.h.deps.Store.FindConversationByID(ctx, s.conv)
	if err != nil {
		return nil, fmt.Errorf("webchat: find conversation: %w", err)
	}
	if conv.Status != s.status {
		// The status goes first: a message that comes with the change (the bot's CSAT
		// question when an agent closes the ticket) follows it.
		s.status = conv.Status
		out = append([]any{statusFrame{Type: "status", ConversationID: conv.ID, Status: string(conv.Status)}}, out...)
	}
	return out, nil
}

// send writes frames, stamping message frames with the session's cursor.
func (s *session) send(ctx context.Context, frames []any) error {
	for _, f := range frames {
		if mf, ok := f.(messageFrame); ok {
			mf.LastID = s.lastID
			f = mf
		}
		if err := s.write(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// mark records that the client has m.
func (s *session) mark(m tandem.Message) {
	s.delivered[m.ID] = m.CreatedAt
	if !m.CreatedAt.Before(s.since) {
		s.since = m.CreatedAt
	}
	s.lastID = m.ID
}

// providerID scopes a client message id to the visitor: provider ids are unique per
// channel, and one visitor must not be able to shadow another's messages.
func (s *session) providerID(clientID string) string { return s.visitor + ":" + clientID }

func (s *session) messageJSON(m tandem.Message) messageJSON {
	j := messageJSON{ID: m.ID, Role: m.Role, Text: m.Text, Time: m.CreatedAt, Citations: m.Citations}
	if m.Role == tandem.RoleCustomer {
		j.ClientID, _ = strings.CutPrefix(m.ProviderID, s.visitor+":")
		if j.ClientID == m.ProviderID {
			j.ClientID = ""
		}
	}
	return j
}

func (s *session) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("webchat: encode frame: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, s.h.cfg.WriteTimeout)
	defer cancel()
	if err := s.c.Write(wctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	return nil
}
