package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Feedback stores customers' votes on the bot's knowledge answers; storage.Store satisfies
// it (see storage.FeedbackStore for the rules and errors). It must be safe for concurrent
// use.
type Feedback interface {
	PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error
	FindIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Identity, error)
}

var _ Feedback = storage.Store(nil)

// FeedbackRequest is the body of POST /api/v1/messages/{id}/feedback. Unknown fields are
// rejected.
type FeedbackRequest struct {
	// Helpful is the customer's vote (required).
	Helpful *bool `json:"helpful"`
	// Comment is optional, at most tandem.MaxFeedbackCommentBytes bytes.
	Comment string `json:"comment,omitempty"`
	// User, when set, is the customer's id in the integrator's system (as in POST
	// /api/v1/bots/{bot}/messages): the vote is refused unless the answer is in that
	// customer's conversation. Without it the vote is the conversation's customer's.
	User string `json:"user,omitempty"`
}

// FeedbackResponse is the stored vote.
type FeedbackResponse struct {
	MessageID      string    `json:"message_id"`
	ConversationID string    `json:"conversation_id"`
	CustomerID     string    `json:"customer_id"`
	Helpful        bool      `json:"helpful"`
	Comment        string    `json:"comment,omitempty"`
	At             time.Time `json:"at"`
}

// handleFeedback records a customer's vote on one of the bot's knowledge answers; voting
// again replaces it.
func (s *Server) handleFeedback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > maxIDBytes {
		WriteError(w, r, s.log, tandem.Errorf(tandem.ENOTFOUND, "message %q not found", id))
		return
	}
	var req FeedbackRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	req.Comment = strings.TrimSpace(req.Comment)
	switch {
	case req.Helpful == nil:
		WriteError(w, r, s.log, tandem.Errorf(tandem.EINVALID, `"helpful" is required: true or false`))
		return
	case len(req.Comment) > tandem.MaxFeedbackCommentBytes:
		WriteError(w, r, s.log, tandem.Errorf(tandem.ETOOLARGE, `"comment" is %d bytes; the limit is %d`, len(req.Comment), tandem.MaxFeedbackCommentBytes))
		return
	case len(req.User) > maxIDBytes:
		WriteError(w, r, s.log, tandem.Errorf(tandem.EINVALID, `"user" is longer than %d bytes`, maxIDBytes))
		return
	}
	f := &tandem.AnswerFeedback{MessageID: id, Helpful: *req.Helpful, Comment: req.Comment, At: s.cfg.Now()}
	if req.User != "" {
		ident, err := s.deps.Feedback.FindIdentity(r.Context(), tandem.ChannelREST, req.User)
		if tandem.ErrorCode(err) == tandem.ENOTFOUND {
			err = tandem.Errorf(tandem.EFORBIDDEN, "message %s is not in the conversation of user %s", id, strconv.Quote(req.User))
		}
		if err != nil {
			WriteError(w, r, s.log, fmt.Errorf("find user: %w", err))
			return
		}
		f.CustomerID = ident.CustomerID
	}
	if err := s.deps.Feedback.PutAnswerFeedback(r.Context(), f); err != nil {
		WriteError(w, r, s.log, fmt.Errorf("feedback: %w", err))
		return
	}
	s.ObserveFeedback(*f)
	writeJSON(w, http.StatusOK, FeedbackResponse{MessageID: f.MessageID, ConversationID: f.ConversationID, CustomerID: f.CustomerID,
		Helpful: f.Helpful, Comment: f.Comment, At: f.At})
}

// ObserveFeedback counts a stored vote in tandem_answer_feedback_total, for votes taken
// outside the server's own routes (the web chat socket).
func (s *Server) ObserveFeedback(f tandem.AnswerFeedback) {
	s.metrics.feedback.WithLabelValues(f.BotID, strconv.FormatBool(f.Helpful)).Inc()
}
