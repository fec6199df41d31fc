package inbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// Internal notes and saved replies on the ticket page. Notes are read only here, for the
// agent's timeline: they are not messages, so the suggestions, the summary and the
// deliveries, which read the customer's messages, never see them.

// SavedReplies lists and fills in a bot's saved replies (saved_replies.yaml);
// *bots.Engine satisfies it. It must be safe for concurrent use.
type SavedReplies interface {
	SavedReplies(botID string) []bots.SavedReply
	// RenderSavedReply fills in saved reply id for the customer and agent: ENOTFOUND for an
	// unknown one, EINVALID (with a message for the agent) when it cannot be filled in.
	RenderSavedReply(botID, id string, cust *tandem.Customer, agent *tandem.Agent) (string, error)
}

var _ SavedReplies = (*bots.Engine)(nil)

// savedReplyView is one saved reply in the ticket page's picker.
type savedReplyView struct {
	ID, Title, Preview string
	Tags               []string
	Search             string // what the filter box matches, lower case
}

// withNotes adds the customer's notes to their timeline, each after the messages of its
// time, marked as a note with its author's name.
func (h *handler) withNotes(ctx context.Context, timeline []messageView, customerID, convID string, names map[string]string) ([]messageView, error) {
	notes, err := h.store.ListCustomerNotes(ctx, customerID, storage.MessageFilter{Limit: h.cfg.TranscriptLimit})
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	if len(notes) == 0 {
		return timeline, nil
	}
	for _, n := range notes {
		timeline = append(timeline, messageView{
			Message: tandem.Message{ID: n.ID, ConversationID: n.ConversationID, AuthorID: n.AuthorID, Text: n.Text, CreatedAt: n.CreatedAt},
			Who:     orDefault(names[n.AuthorID], "An agent"), Other: n.ConversationID != convID, Note: true})
	}
	slices.SortStableFunc(timeline, func(a, b messageView) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return timeline, nil
}

// savedReplies lists the bot's saved replies for the picker.
func (h *handler) savedReplies(botID string) []savedReplyView {
	if h.saved == nil {
		return nil
	}
	rs := h.saved.SavedReplies(botID)
	out := make([]savedReplyView, 0, len(rs))
	for _, r := range rs {
		out = append(out, savedReplyView{ID: r.ID, Title: r.Title, Tags: r.Tags, Preview: snippet(r.Text.Source, 140),
			Search: strings.ToLower(r.Title + " " + strings.Join(r.Tags, " ") + " " + r.Text.Source)})
	}
	return out
}

// fillSavedReply fills saved reply id in for the ticket's customer and agent, for the reply
// box; the error's message is for the agent (the reply is not sent).
func (h *handler) fillSavedReply(ctx context.Context, d *ticketData, id string, agent *tandem.Agent) (string, error) {
	if h.saved == nil {
		return "", tandem.Errorf(tandem.ENOTFOUND, "there are no saved replies")
	}
	cust, err := h.store.FindCustomerByID(ctx, d.Conv.CustomerID)
	if err != nil {
		return "", fmt.Errorf("saved reply: %w", err)
	}
	text, err := h.saved.RenderSavedReply(d.Conv.BotID, id, cust, agent)
	if err != nil {
		return "", err
	}
	if len(text) > handoff.MaxReplyBytes {
		return "", tandem.Errorf(tandem.ETOOLARGE, "the saved reply is %d bytes filled in; a reply's limit is %d", len(text), handoff.MaxReplyBytes)
	}
	return text, nil
}
