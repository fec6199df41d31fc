package webchat

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Error codes of error frames that are not tandem error codes.
const (
	// CodeBadFrame: the frame is not a JSON object of the protocol (binary, malformed,
	// unknown fields).
	CodeBadFrame = "bad_frame"
	// CodeUnknownType: the frame's "type" is not one the server knows.
	CodeUnknownType = "unknown_type"
	// CodeRateLimited: the visitor sent messages faster than Config.MessagesPerMinute allows;
	// the message was not handled and may be resent with its id after retry_after_ms.
	CodeRateLimited = "rate_limited"
)

// MaxClientIDBytes bounds a client message id.
const MaxClientIDBytes = 128

// Frame is a frame the browser sends, a message, a typing hint or a vote on an answer:
//
//	{"type":"message","text":"Where is my order?","id":"<client message id>"}
//	{"type":"typing"}
//	{"type":"feedback","message_id":"<bot message id>","helpful":false,"comment":"…"}
//
// A message's id is chosen by the client and reused when it resends the message after a
// reconnect, so the engine drops the second copy. A typing frame says the visitor is
// typing; while a human has the conversation, the agent sees it. A feedback frame rates one
// of the bot's knowledge answers in the visitor's conversation (comment optional); voting
// again replaces the vote.
type Frame struct {
	Type string `json:"type"`
	Text string `json:"text"`
	ID   string `json:"id"`
	// MessageID, Helpful and Comment are a feedback frame's.
	MessageID string `json:"message_id"`
	Helpful   bool   `json:"helpful"`
	Comment   string `json:"comment"`
}

// wireFrame is Frame as decoded, where a feedback frame's missing "helpful" shows.
type wireFrame struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	ID        string `json:"id"`
	MessageID string `json:"message_id"`
	Helpful   *bool  `json:"helpful"`
	Comment   string `json:"comment"`
}

// FrameError is why a frame was refused: Code is a tandem code (invalid, too_large) or one
// of CodeBadFrame and CodeUnknownType; Message is safe to show the visitor.
type FrameError struct {
	Code    string
	Message string
	// ID is the frame's client message id when it could be read, so the client knows which
	// message failed.
	ID string
	// MessageID is the message a refused feedback frame rated, when it could be read.
	MessageID string
}

// Error implements error.
func (e *FrameError) Error() string { return "webchat: " + e.Code + ": " + e.Message }

// ParseFrame decodes one text frame from the browser and validates it: a known type; for a
// message, a non-empty text of at most maxText bytes (after trimming spaces) and a client id of
// printable characters, at most MaxClientIDBytes; for feedback, see parseFeedback. The
// returned frame's text is trimmed and valid UTF-8 (encoding/json replaces invalid bytes).
func ParseFrame(data []byte, maxText int) (Frame, *FrameError) {
	var w wireFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Frame{}, &FrameError{Code: CodeBadFrame, Message: "the frame is not a JSON object of the chat protocol"}
	}
	if dec.More() {
		return Frame{}, &FrameError{Code: CodeBadFrame, Message: "the frame holds more than one JSON value"}
	}
	if w.Type == "feedback" {
		return parseFeedback(w)
	}
	f := Frame{Type: w.Type, Text: w.Text, ID: w.ID}
	switch f.Type {
	case "typing":
		return Frame{Type: f.Type}, nil
	case "message":
	default:
		return Frame{}, &FrameError{Code: CodeUnknownType, Message: "unknown frame type; send \"message\", \"typing\" or \"feedback\"", ID: safeID(f.ID)}
	}
	if f.ID == "" || len(f.ID) > MaxClientIDBytes || !printable(f.ID) {
		return Frame{}, &FrameError{Code: tandem.EINVALID,
			Message: "\"id\" must be 1 to 128 printable characters, unique per message"}
	}
	f.Text = strings.TrimSpace(f.Text)
	switch {
	case f.Text == "":
		return Frame{}, &FrameError{Code: tandem.EINVALID, Message: "\"text\" is empty", ID: f.ID}
	case len(f.Text) > maxText:
		return Frame{}, &FrameError{Code: tandem.ETOOLARGE, Message: "the message is longer than the limit of " + strconv.Itoa(maxText) + " bytes", ID: f.ID}
	}
	return f, nil
}

// parseFeedback validates a feedback frame: the id of a message (printable, at most
// MaxClientIDBytes), helpful given, a comment of at most tandem.MaxFeedbackCommentBytes
// after trimming spaces.
func parseFeedback(f wireFrame) (Frame, *FrameError) {
	switch {
	case f.MessageID == "" || len(f.MessageID) > MaxClientIDBytes || !printable(f.MessageID):
		return Frame{}, &FrameError{Code: tandem.EINVALID, Message: "\"message_id\" must name one of the bot's messages"}
	case f.Helpful == nil:
		return Frame{}, &FrameError{Code: tandem.EINVALID, Message: "\"helpful\" must be true or false", MessageID: f.MessageID}
	}
	f.Comment = strings.TrimSpace(f.Comment)
	if len(f.Comment) > tandem.MaxFeedbackCommentBytes {
		return Frame{}, &FrameError{Code: tandem.ETOOLARGE, MessageID: f.MessageID,
			Message: "the comment is longer than the limit of " + strconv.Itoa(tandem.MaxFeedbackCommentBytes) + " bytes"}
	}
	return Frame{Type: f.Type, MessageID: f.MessageID, Helpful: *f.Helpful, Comment: f.Comment}, nil
}

// safeID returns id when it could be echoed back, else "".
func safeID(id string) string {
	if len(id) <= MaxClientIDBytes && printable(id) {
		return id
	}
	return ""
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// Frames the server sends. Every frame has "type"; frames that move the client's cursor
// carry "last_id", the newest message the client has now been given, which it sends back
// as ?after= when it reconnects.

// transcriptFrame is sent once per connection: the conversation and its messages since the
// client's ?after= (all of them, with reset, when the client has none or its cursor is
// unknown).
type transcriptFrame struct {
	Type           string        `json:"type"` // "transcript"
	ConversationID string        `json:"conversation_id,omitempty"`
	Status         string        `json:"status,omitempty"`
	Reset          bool          `json:"reset"`
	Messages       []messageJSON `json:"messages"`
	LastID         string        `json:"last_id,omitempty"`
	MaxBytes       int           `json:"max_bytes"`
	// VisitorToken is the visitor's signed token, for the embed only (see EmbedProtocol).
	VisitorToken string `json:"visitor_token,omitempty"`
}

// turnFrame answers one message frame with the bot's replies.
type turnFrame struct {
	Type           string      `json:"type"` // "turn"
	ID             string      `json:"id"`   // the client message id answered
	ConversationID string      `json:"conversation_id"`
	Duplicate      bool        `json:"duplicate,omitempty"`
	Replies        []replyJSON `json:"replies"`
	LastID         string      `json:"last_id,omitempty"`
}

// messageFrame is one message of the conversation the client has not seen: an agent's
// reply, a notice, or a message sent from another tab or channel.
type messageFrame struct {
	Type    string      `json:"type"` // "message"
	Message messageJSON `json:"message"`
	LastID  string      `json:"last_id,omitempty"`
}

// statusFrame says the conversation's status changed: "handoff" (a human has it or will),
// "open" (the bot answers), "closed".
type statusFrame struct {
	Type           string `json:"type"` // "status"
	ConversationID string `json:"conversation_id"`
	Status         string `json:"status"`
}

// typingFrame says an agent is typing a reply; the page shows it for a few seconds.
type typingFrame struct {
	Type string      `json:"type"` // "typing"
	Role tandem.Role `json:"role"` // "agent"
}

// errorFrame refuses a frame or reports a failed turn; the socket stays open.
type errorFrame struct {
	Type    string `json:"type"` // "error"
	Code    string `json:"code"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty"`
	// RetryAfterMillis is set on CodeRateLimited: when the message may be resent.
	RetryAfterMillis int64 `json:"retry_after_ms,omitempty"`
	// MessageID is the bot message of a refused feedback frame.
	MessageID string `json:"message_id,omitempty"`
}

// feedbackFrame confirms a stored vote on a bot message.
type feedbackFrame struct {
	Type      string `json:"type"` // "feedback"
	MessageID string `json:"message_id"`
	Helpful   bool   `json:"helpful"`
}

type replyJSON struct {
	// ID is the stored bot message, what a feedback frame names.
	ID           string              `json:"id,omitempty"`
	Text         string              `json:"text"`
	Citations    []tandem.Citation   `json:"citations"`
	QuickReplies []tandem.QuickReply `json:"quick_replies,omitempty"`
}

type messageJSON struct {
	ID        string            `json:"id"`
	Role      tandem.Role       `json:"role"`
	Text      string            `json:"text"`
	Time      time.Time         `json:"time"`
	Citations []tandem.Citation `json:"citations,omitempty"`
	// ClientID is the client's id of a customer message sent over this visitor's socket,
	// so a page that already shows it does not show it twice.
	ClientID string `json:"client_id,omitempty"`
	// Helpful is the visitor's vote on a bot answer, absent when they gave none.
	Helpful *bool `json:"helpful,omitempty"`
}
