package kb

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Customers' votes on the bot's knowledge answers, for content teams: per document on its
// page, and the report of the documents whose answers did not help (/kb/feedback).
const (
	// FeedbackWindow is the period the votes are summed over, feedbackDays long.
	FeedbackWindow = feedbackDays * 24 * time.Hour
	feedbackDays   = 30
	// feedbackDocs bounds the documents of the report, feedbackQuestions the questions
	// shown under each.
	feedbackDocs      = 50
	feedbackQuestions = 5
)

// FeedbackStore is what the editor reads of the votes; storage.Store satisfies it (see
// storage.FeedbackStore).
type FeedbackStore interface {
	DocumentFeedbackStats(ctx context.Context, since time.Time, documentID string, limit int) ([]storage.DocumentFeedback, error)
	ListAnswerFeedback(ctx context.Context, f storage.AnswerFeedbackFilter) ([]storage.RatedAnswer, error)
}

// docFeedback returns the votes on answers citing document id over the window.
func (h *handler) docFeedback(ctx context.Context, id string) (storage.DocumentFeedback, error) {
	st, err := h.store.DocumentFeedbackStats(ctx, h.cfg.Now().Add(-FeedbackWindow), id, 1)
	if err != nil {
		return storage.DocumentFeedback{}, fmt.Errorf("document feedback: %w", err)
	}
	if len(st) == 0 {
		return storage.DocumentFeedback{DocumentID: id}, nil
	}
	return st[0], nil
}

// unhelpfulDoc is one document of the report.
type unhelpfulDoc struct {
	storage.DocumentFeedback
	Title   string
	Exists  bool // false: deleted since (its id is shown)
	Answers []storage.RatedAnswer
}

type feedbackData struct {
	Days int
	Docs []unhelpfulDoc
}

// handleFeedback is "Answers that did not help": the documents cited by answers customers
// voted not helpful over the window, most such votes first, each with the customer
// questions that led to those answers.
func (h *handler) handleFeedback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	since := h.cfg.Now().Add(-FeedbackWindow)
	stats, err := h.store.DocumentFeedbackStats(ctx, since, "", feedbackDocs)
	if err != nil {
		h.fail(w, r, fmt.Errorf("document feedback: %w", err))
		return
	}
	d := feedbackData{Days: feedbackDays}
	notHelpful := false
	for _, st := range stats {
		if st.NotHelpful == 0 {
			break // ranked by not-helpful votes: the rest have none
		}
		u := unhelpfulDoc{DocumentFeedback: st, Title: st.DocumentID}
		switch doc, err := h.store.FindDocumentByID(ctx, st.DocumentID); {
		case err == nil:
			u.Title, u.Exists = doc.Title, true
		case tandem.ErrorCode(err) != tandem.ENOTFOUND:
			h.fail(w, r, fmt.Errorf("find document: %w", err))
			return
		}
		u.Answers, err = h.store.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{DocumentID: st.DocumentID, Helpful: &notHelpful,
			Since: since, Limit: feedbackQuestions})
		if err != nil {
			h.fail(w, r, fmt.Errorf("list answer feedback: %w", err))
			return
		}
		d.Docs = append(d.Docs, u)
	}
	h.render(w, r, http.StatusOK, "feedback", page{Title: "Answers that did not help", Nav: "feedback", Data: d})
}
