package storage

import (
	"context"
	"strconv"
	"time"
)

// RetentionStore removes and redacts customers' data: the retention worker's batches and
// the erasure of one customer on request. Every method is one transaction, safe to run on
// every replica at once (PostgreSQL hands concurrent callers disjoint rows), and idempotent:
// a second call finds nothing left to do.
type RetentionStore interface {
	// DeleteClosedConversations deletes up to limit closed conversations whose last
	// activity (UpdatedAt) is before `before`, oldest first, with their messages (and so
	// their NLU annotations and answer feedback), deliveries, tickets, agents' notes and
	// CSAT responses. Not-closed conversations are never deleted. It returns how many
	// conversations it deleted; fewer than limit means none is left for this caller (rows a
	// concurrent caller holds are its to delete). limit < 1: EINVALID.
	DeleteClosedConversations(ctx context.Context, before time.Time, limit int) (int, error)
	// RedactMessages replaces the text of up to limit messages created before `before` and
	// not redacted yet with redact(text), oldest first, and marks them redacted so they are
	// never processed again. The entities of their NLU annotations (spans of the original
	// text) are dropped, and the reply text of their deliveries and the comments of the
	// votes on them (FeedbackStore) are redacted too. It returns
	// how many messages it redacted; fewer than limit means none is left for this caller.
	// limit < 1 or a nil redact: EINVALID.
	RedactMessages(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error)
	// RedactNotes does the same for up to limit agents' internal notes created before
	// `before` and not yet redacted (agents write customers' details in them too), and
	// returns how many. EINVALID for a limit under 1 or a nil redact.
	RedactNotes(ctx context.Context, before time.Time, limit int, redact func(string) string) (int, error)
	// CountCustomerData counts what EraseCustomer would delete; unknown id: ENOTFOUND.
	CountCustomerData(ctx context.Context, id string) (Erasure, error)
	// EraseCustomer deletes a customer with its identities, conversations, messages,
	// deliveries (so none is sent afterwards), tickets, agents' notes, CSAT responses,
	// answer feedback and profile, and appends a "customer.erase" audit entry by actor
	// recording only ids and counts, all in one transaction. Unknown id: ENOTFOUND (nothing
	// is written). A delivery a worker had already claimed may still be on its way; its
	// status update then finds nothing.
	EraseCustomer(ctx context.Context, id, actor string) (Erasure, error)
}

// AuditCustomerErase is the audit action of EraseCustomer; its subject is the customer id
// and its detail holds the counts of Erasure (no personal data).
const AuditCustomerErase = "customer.erase"

// Erasure counts the rows of one customer's data, erased or about to be.
type Erasure struct {
	CustomerID    string
	Identities    int
	Conversations int
	Messages      int
	Deliveries    int
	Tickets       int
	Notes         int
	CSATResponses int
	// AnswerFeedback counts the votes on the bot's answers in the customer's conversations.
	AnswerFeedback int
}

// Detail is the erasure as an audit entry's detail: counts only.
func (e Erasure) Detail() map[string]string {
	itoa := strconv.Itoa
	return map[string]string{
		"identities": itoa(e.Identities), "conversations": itoa(e.Conversations), "messages": itoa(e.Messages),
		"deliveries": itoa(e.Deliveries), "tickets": itoa(e.Tickets), "notes": itoa(e.Notes), "csat_responses": itoa(e.CSATResponses),
		"answer_feedback": itoa(e.AnswerFeedback),
	}
}
