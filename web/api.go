package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// maxIDBytes bounds the ids a client sends (user, message_id, conversation_id).
const maxIDBytes = 256

// maxTranscriptLimit bounds ?limit= of the transcript.
const maxTranscriptLimit = 1000

// PostMessageRequest is the body of POST /api/v1/bots/{bot}/messages. Unknown fields are
// rejected.
type PostMessageRequest struct {
	// User is the customer's id in the integrator's system (required).
	User string `json:"user"`
	// Text is the customer's message (required, at most Config.MaxMessageBytes bytes).
	Text string `json:"text"`
	// MessageID is the integrator's id for this message; a repeated id is answered with
	// "duplicate": true and not processed again.
	MessageID string `json:"message_id,omitempty"`
	// ConversationID continues that conversation.
	ConversationID string `json:"conversation_id,omitempty"`
}

// PostMessageResponse is the answer of POST /api/v1/bots/{bot}/messages.
type PostMessageResponse struct {
	ConversationID string              `json:"conversation_id"`
	CustomerID     string              `json:"customer_id,omitempty"`
	MessageID      string              `json:"message_id,omitempty"`
	Duplicate      bool                `json:"duplicate,omitempty"`
	Replies        []ReplyJSON         `json:"replies"`
	Language       string              `json:"language,omitempty"`
	Intent         tandem.IntentScore  `json:"intent"`
	Sentiment      tandem.Sentiment    `json:"sentiment"`
	Entities       []tandem.Entity     `json:"entities,omitempty"`
	Decision       *tandem.Decision    `json:"decision,omitempty"`
	Handoff        *tandem.HandoffInfo `json:"handoff"`
	// ActiveFlow and ActiveStep are the flow in progress after the turn and the step it
	// waits in; absent when none.
	ActiveFlow string `json:"active_flow,omitempty"`
	ActiveStep string `json:"active_step,omitempty"`
	// CSATScore is the customer's rating (1 to 5) when the message answered a satisfaction
	// survey; absent otherwise.
	CSATScore int `json:"csat_score,omitempty"`
}

// ReplyJSON is one bot reply on the wire; Citations is always an array. ID is the stored
// bot message, what POST /api/v1/messages/{id}/feedback rates.
type ReplyJSON struct {
	ID           string              `json:"id,omitempty"`
	Text         string              `json:"text"`
	Citations    []tandem.Citation   `json:"citations"`
	QuickReplies []tandem.QuickReply `json:"quick_replies,omitempty"`
}

// TranscriptResponse is the answer of GET /api/v1/conversations/{id}.
type TranscriptResponse struct {
	ID         string                    `json:"id"`
	BotID      string                    `json:"bot_id"`
	CustomerID string                    `json:"customer_id"`
	Channel    tandem.Channel            `json:"channel"`
	Status     tandem.ConversationStatus `json:"status"`
	CreatedAt  time.Time                 `json:"created_at"`
	UpdatedAt  time.Time                 `json:"updated_at"`
	Messages   []MessageJSON             `json:"messages"`
}

// MessageJSON is one transcript message on the wire.
type MessageJSON struct {
	ID        string              `json:"id"`
	Role      tandem.Role         `json:"role"`
	Text      string              `json:"text"`
	Time      time.Time           `json:"time"`
	Channel   tandem.Channel      `json:"channel"`
	AuthorID  string              `json:"author_id,omitempty"`
	Citations []tandem.Citation   `json:"citations,omitempty"`
	Intent    *tandem.IntentScore `json:"intent,omitempty"`
	Sentiment *tandem.Sentiment   `json:"sentiment,omitempty"`
	Decision  *tandem.Decision    `json:"decision,omitempty"`
}

// handlePostMessage is the REST channel: one customer message in, the bot's turn out.
func (s *Server) handlePostMessage(w http.ResponseWriter, r *http.Request) {
	bot := r.PathValue("bot")
	if !botNameRE.MatchString(bot) {
		WriteError(w, r, s.log, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", bot))
		return
	}
	var req PostMessageRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	text := strings.TrimSpace(req.Text)
	if err := s.validatePostMessage(req, text); err != nil {
		WriteError(w, r, s.log, err)
		return
	}
	in := tandem.Inbound{
		BotID:          bot,
		Channel:        tandem.ChannelREST,
		ExternalID:     req.User,
		Text:           text,
		ProviderID:     req.MessageID,
		ConversationID: req.ConversationID,
		ReceivedAt:     s.cfg.Now(),
	}
	start := time.Now()
	turn, err := s.deps.Engine.HandleMessage(r.Context(), in)
	if err != nil {
		s.metrics.turnErrors.WithLabelValues(tandem.ErrorCode(err)).Inc()
		WriteError(w, r, s.log, fmt.Errorf("handle message: %w", err))
		return
	}
	if turn == nil {
		WriteError(w, r, s.log, errors.New("handle message: engine returned no turn"))
		return
	}
	s.metrics.observeTurn(bot, turn, time.Since(start).Seconds())
	writeJSON(w, http.StatusOK, newPostMessageResponse(turn))
}

func (s *Server) validatePostMessage(req PostMessageRequest, text string) error {
	switch {
	case strings.TrimSpace(req.User) == "":
		return tandem.Errorf(tandem.EINVALID, `"user" is required`)
	case len(req.User) > maxIDBytes:
		return tandem.Errorf(tandem.EINVALID, `"user" is longer than %d bytes`, maxIDBytes)
	case len(req.MessageID) > maxIDBytes:
		return tandem.Errorf(tandem.EINVALID, `"message_id" is longer than %d bytes`, maxIDBytes)
	case len(req.ConversationID) > maxIDBytes:
		return tandem.Errorf(tandem.EINVALID, `"conversation_id" is longer than %d bytes`, maxIDBytes)
	case text == "":
		return tandem.Errorf(tandem.EINVALID, `"text" is empty`)
	case len(text) > s.cfg.MaxMessageBytes:
		return tandem.Errorf(tandem.ETOOLARGE, `"text" is %d bytes; the limit is %d`, len(text), s.cfg.MaxMessageBytes)
	}
	return nil
}

func newPostMessageResponse(t *tandem.Turn) PostMessageResponse {
	resp := PostMessageResponse{
		ConversationID: t.ConversationID,
		CustomerID:     t.CustomerID,
		MessageID:      t.MessageID,
		Duplicate:      t.Duplicate,
		Replies:        make([]ReplyJSON, 0, len(t.Replies)),
		Language:       t.Annotations.Language,
		Intent:         t.Annotations.Intent,
		Sentiment:      t.Annotations.Sentiment,
		Entities:       t.Annotations.Entities,
		Handoff:        t.Handoff,
		ActiveFlow:     t.ActiveFlow,
		ActiveStep:     t.ActiveStep,
		CSATScore:      t.CSATScore,
	}
	if t.Decision.Kind != "" {
		d := t.Decision
		resp.Decision = &d
	}
	for _, rep := range t.Replies {
		resp.Replies = append(resp.Replies, ReplyJSON{
			ID:           rep.MessageID,
			Text:         rep.Text,
			Citations:    nonNil(rep.Citations),
			QuickReplies: rep.QuickReplies,
		})
	}
	return resp
}

// handleGetConversation returns a conversation's transcript, oldest message first.
// ?limit=N returns only the newest N messages; ?since=<RFC 3339> those created at or after.
func (s *Server) handleGetConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var f storage.MessageFilter
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTranscriptLimit {
			WriteError(w, r, s.log, tandem.Errorf(tandem.EINVALID, "limit must be a number from 1 to %d", maxTranscriptLimit))
			return
		}
		f.Limit = n
	}
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			WriteError(w, r, s.log, tandem.Errorf(tandem.EINVALID, "since must be an RFC 3339 time"))
			return
		}
		f.Since = t
	}
	if len(id) > maxIDBytes {
		WriteError(w, r, s.log, tandem.Errorf(tandem.ENOTFOUND, "no conversation %q", id))
		return
	}
	conv, err := s.deps.Conversations.FindConversationByID(r.Context(), id)
	if err != nil {
		WriteError(w, r, s.log, fmt.Errorf("find conversation: %w", err))
		return
	}
	msgs, err := s.deps.Conversations.ListMessages(r.Context(), id, f)
	if err != nil {
		WriteError(w, r, s.log, fmt.Errorf("list messages: %w", err))
		return
	}
	resp := TranscriptResponse{
		ID:         conv.ID,
		BotID:      conv.BotID,
		CustomerID: conv.CustomerID,
		Channel:    conv.Channel,
		Status:     conv.Status,
		CreatedAt:  conv.CreatedAt,
		UpdatedAt:  conv.UpdatedAt,
		Messages:   make([]MessageJSON, 0, len(msgs)),
	}
	for _, m := range msgs {
		mj := MessageJSON{
			ID:        m.ID,
			Role:      m.Role,
			Text:      m.Text,
			Time:      m.CreatedAt,
			Channel:   m.Channel,
			AuthorID:  m.AuthorID,
			Citations: m.Citations,
			Decision:  m.Decision,
		}
		if a := m.Annotations; a != nil {
			if a.Intent.Name != "" {
				intent := a.Intent
				mj.Intent = &intent
			}
			if a.Sentiment.Label != "" {
				sent := a.Sentiment
				mj.Sentiment = &sent
			}
		}
		resp.Messages = append(resp.Messages, mj)
	}
	writeJSON(w, http.StatusOK, resp)
}

// decodeJSON reads r's body into v: the content type must be JSON (else 415), the body at
// most MaxBodyBytes (else 413), one object with only known fields (else 400). It writes the
// error response and returns false on failure.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeErrorJSON(w, http.StatusUnsupportedMediaType, tandem.EINVALID, "content type must be application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		// Exactly one value: anything but whitespace after it is malformed.
		var maxErr *http.MaxBytesError
		switch _, terr := dec.Token(); {
		case errors.As(terr, &maxErr):
			err = terr
		case terr != io.EOF:
			err = errTrailingData
		}
	}
	if err != nil {
		WriteError(w, r, s.log, decodeError(err, s.cfg.MaxBodyBytes))
		return false
	}
	return true
}

var errTrailingData = errors.New("data after the JSON object")

// decodeError turns a JSON decoding error into a *tandem.Error a client can act on.
func decodeError(err error, limit int64) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return tandem.Errorf(tandem.ETOOLARGE, "request body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return tandem.Errorf(tandem.EINVALID, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tandem.Errorf(tandem.EINVALID, "malformed JSON: unexpected end of input")
	case errors.As(err, &syntaxErr):
		return tandem.Errorf(tandem.EINVALID, "malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return tandem.Errorf(tandem.EINVALID, "request body must be a JSON object")
	case errors.As(err, &typeErr):
		return tandem.Errorf(tandem.EINVALID, "field %q must be a %s", typeErr.Field, typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for DisallowUnknownFields.
		return tandem.Errorf(tandem.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return tandem.Errorf(tandem.EINVALID, "malformed JSON: %s", err.Error())
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
