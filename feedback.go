package tandem

import "time"

// MaxFeedbackCommentBytes bounds the comment a customer may leave with a vote.
const MaxFeedbackCommentBytes = 500

// AnswerFeedback is a customer's vote on one knowledge answer of the bot (a bot message with
// citations): was it helpful? A customer has one vote per message; voting again replaces it.
type AnswerFeedback struct {
	MessageID      string // the bot's answer
	ConversationID string
	CustomerID     string // the conversation's customer, the only one who may vote
	BotID          string
	// QuestionID is the customer message the answer replied to (the one before it), ""
	// when there is none.
	QuestionID string
	Helpful    bool
	Comment    string // optional, at most MaxFeedbackCommentBytes
	At         time.Time
}

// IsKnowledgeAnswer reports whether m may be rated: a bot message citing the knowledge base.
func IsKnowledgeAnswer(m *Message) bool {
	return m != nil && m.Role == RoleBot && len(m.Citations) > 0
}
