package webchat

import (
	"context"
	"fmt"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// feedback stores the visitor's vote on one of the bot's knowledge answers and confirms
// it; a vote the store refuses (an unknown message, another customer's, not a knowledge
// answer) gets an error frame and changes nothing. Votes share the visitor's message rate
// limit: each is a write.
func (s *session) feedback(ctx context.Context, fr Frame) error {
	refuse := func(code, msg string) error {
		return s.write(ctx, errorFrame{Type: "error", Code: code, Message: msg, MessageID: fr.MessageID})
	}
	if ok, wait := s.h.visitors.Allow(s.visitor); !ok {
		return s.write(ctx, errorFrame{Type: "error", Code: CodeRateLimited, MessageID: fr.MessageID,
			Message: "You are sending too fast; try again in a moment.", RetryAfterMillis: max(wait.Milliseconds(), 1)})
	}
	id, err := s.h.deps.Store.FindIdentity(ctx, tandem.ChannelWebChat, s.visitor)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		// A visitor who never wrote has no conversation, so no answer to rate.
		return refuse(tandem.ENOTFOUND, fmt.Sprintf("message %s not found", fr.MessageID))
	}
	if err != nil {
		return fmt.Errorf("webchat: find visitor: %w", err)
	}
	f := &tandem.AnswerFeedback{MessageID: fr.MessageID, CustomerID: id.CustomerID, Helpful: fr.Helpful, Comment: fr.Comment,
		At: s.h.cfg.Now()}
	if err := s.h.deps.Store.PutAnswerFeedback(ctx, f); err != nil {
		if tandem.ErrorCode(err) == tandem.EINTERNAL {
			s.h.cfg.Logger.ErrorContext(ctx, "webchat: store feedback", "bot", s.bot, "message_id", fr.MessageID, "error", err)
		}
		return refuse(tandem.ErrorCode(err), tandem.ErrorMessage(err))
	}
	if s.h.cfg.ObserveFeedback != nil {
		s.h.cfg.ObserveFeedback(*f)
	}
	return s.write(ctx, feedbackFrame{Type: "feedback", MessageID: f.MessageID, Helpful: f.Helpful})
}

// votes returns the visitor's votes on msgs of conversation convID, by message id.
func (s *session) votes(ctx context.Context, convID string, msgs []tandem.Message) (map[string]bool, error) {
	rated := false
	for i := range msgs {
		rated = rated || tandem.IsKnowledgeAnswer(&msgs[i])
	}
	if !rated {
		return nil, nil
	}
	fs, err := s.h.deps.Store.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{ConversationID: convID, Limit: s.h.cfg.TranscriptLimit})
	if err != nil {
		return nil, fmt.Errorf("webchat: list feedback: %w", err)
	}
	out := make(map[string]bool, len(fs))
	for _, f := range fs {
		out[f.MessageID] = f.Helpful
	}
	return out, nil
}
