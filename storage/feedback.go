package storage

import (
	"context"
	"time"

	"github.com/tandemhq/tandem"
)

// FeedbackStore keeps customers' votes on the bot's knowledge answers ("was this helpful?")
// and sums them for content teams and supervisors. A vote belongs to its answer's message:
// deleting the message (retention, erasure) deletes the vote.
type FeedbackStore interface {
	// PutAnswerFeedback records f as the vote of f.CustomerID on message f.MessageID,
	// replacing that customer's earlier vote on it (one vote per message; concurrent votes:
	// the last committed wins, no duplicate). An empty CustomerID stands for the
	// conversation's customer (an integrator speaking for its customers) and is filled in,
	// as are ConversationID, BotID and
	// QuestionID (the conversation's last customer message before the answer) and, when
	// zero, At, checked and written in one transaction. Unknown message: ENOTFOUND; a
	// message of another customer's conversation: EFORBIDDEN; a message that is not a
	// knowledge answer (tandem.IsKnowledgeAnswer), or a comment over
	// tandem.MaxFeedbackCommentBytes: EINVALID. Nothing is written on error. A message
	// redacted already (RetentionStore.RedactMessages) takes the vote without its comment,
	// which nothing would redact.
	PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error
	// ListAnswerFeedback returns the votes matching f, newest first.
	ListAnswerFeedback(ctx context.Context, f AnswerFeedbackFilter) ([]RatedAnswer, error)
	// DocumentFeedbackStats sums the votes given since on the answers that cited each
	// document (a vote counts once for every document its answer cited), ordered by
	// not-helpful votes, then helpful ones (both descending), then document id. With
	// documentID set only that document's line is returned (none when it has no vote).
	// limit 0 means 100.
	DocumentFeedbackStats(ctx context.Context, since time.Time, documentID string, limit int) ([]DocumentFeedback, error)
	// The supervisors' sum of the votes is ReportStore.AnswerFeedbackStats.
}

// AnswerFeedbackFilter selects votes; zero fields match everything.
type AnswerFeedbackFilter struct {
	ConversationID string
	// DocumentID selects votes on answers that cited the document.
	DocumentID string
	Helpful    *bool
	Since      time.Time // votes given at or after
	Limit      int       // 0 means 100
}

// RatedAnswer is a vote with the texts it concerns.
type RatedAnswer struct {
	tandem.AnswerFeedback
	Question string // the text of the customer message the answer replied to, "" when none
	Answer   string // the text of the bot's answer
}

// DocumentFeedback sums the votes on answers citing one document.
type DocumentFeedback struct {
	DocumentID string
	Helpful    int
	NotHelpful int
}

// Rated is the number of votes.
func (d DocumentFeedback) Rated() int { return d.Helpful + d.NotHelpful }

// HelpfulRate is the share of helpful votes in [0, 1], 0 when there is none.
func (d DocumentFeedback) HelpfulRate() float64 {
	if d.Rated() == 0 {
		return 0
	}
	return float64(d.Helpful) / float64(d.Rated())
}

// AnswerFeedbackStats counts votes on knowledge answers.
type AnswerFeedbackStats struct {
	Rated   int
	Helpful int
}

// HelpfulRate is the share of helpful votes in [0, 1], 0 when there is none.
func (a AnswerFeedbackStats) HelpfulRate() float64 {
	if a.Rated == 0 {
		return 0
	}
	return float64(a.Helpful) / float64(a.Rated)
}

// CheckAnswerFeedback validates what a caller sets in f before it is stored; adapters call
// it first.
func CheckAnswerFeedback(f *tandem.AnswerFeedback) error {
	switch {
	case f.MessageID == "":
		return tandem.Errorf(tandem.EINVALID, "feedback needs a message id")
	case len(f.Comment) > tandem.MaxFeedbackCommentBytes:
		return tandem.Errorf(tandem.EINVALID, "the comment is longer than %d bytes", tandem.MaxFeedbackCommentBytes)
	}
	return nil
}

// CheckFeedbackTarget is PutAnswerFeedback's rule on the message voted on, given the
// conversation's customer (voter "": that customer): adapters call it inside their
// transaction.
func CheckFeedbackTarget(m *tandem.Message, conversationCustomer, voter string) error {
	switch {
	case voter != "" && conversationCustomer != voter:
		return tandem.Errorf(tandem.EFORBIDDEN, "message %s is not in your conversation", m.ID)
	case !tandem.IsKnowledgeAnswer(m):
		return tandem.Errorf(tandem.EINVALID, "only answers from the knowledge base (with sources) can be rated")
	}
	return nil
}
