package kb

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// reviewListLimit bounds the review page; a longer queue is a process problem, not a paging one.
const reviewListLimit = 200

// maxDiffLines bounds each side of a diff (the table is quadratic).
const maxDiffLines = 2000

func statusText(s tandem.DocumentStatus) string {
	if s == tandem.DocumentInReview {
		return "in review"
	}
	return string(s)
}

// docData is the document page.
type docData struct {
	Doc    *tandem.Document
	Chunks []tandem.Chunk
	Review *tandem.DocumentReview // latest review round, nil when none
	Next   *tandem.Document       // the published document's next version in the works
	Live   *tandem.Document       // the published document this next version replaces
	Diff   []diffLine             // Live's body against Doc's
	// What the signed-in editor may do.
	CanSubmit, CanReview, CanPublish bool
	RequireReview                    bool
	// Feedback sums customers' votes on answers citing the document (FeedbackWindow).
	Feedback     storage.DocumentFeedback
	FeedbackDays int
}

// nextOf returns the next version of published document doc, nil when it has none.
func (h *handler) nextOf(r *http.Request, doc *tandem.Document) *tandem.Document {
	if _, isNext := review.LiveID(doc.ID); isNext {
		return nil
	}
	next, err := h.store.FindDocumentByID(r.Context(), review.NextID(doc.ID))
	if err != nil {
		return nil
	}
	return next
}

func (h *handler) renderDoc(w http.ResponseWriter, r *http.Request, doc *tandem.Document) {
	ctx := r.Context()
	chunks, err := h.store.ListChunks(ctx, doc.ID)
	if err != nil {
		h.fail(w, r, fmt.Errorf("list chunks: %w", err))
		return
	}
	last, err := h.wf.LastReview(ctx, doc.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := docData{Doc: doc, Chunks: chunks, Review: last, Next: h.nextOf(r, doc), RequireReview: h.cfg.RequireReview.Requires(doc.Collection),
		FeedbackDays: feedbackDays}
	if d.Feedback, err = h.docFeedback(ctx, doc.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	live, isNext := review.LiveID(doc.ID)
	if isNext {
		if d.Live, err = h.store.FindDocumentByID(ctx, live); err == nil {
			d.Diff = lineDiff(d.Live.Body, doc.Body)
		}
	}
	_, err = review.Transition(*doc, last, review.Approve, h.who(ctx), "", h.cfg.RequireReview.Requires(doc.Collection))
	d.CanReview = err == nil
	d.CanSubmit = doc.Status == tandem.DocumentDraft
	d.CanPublish = !isNext && doc.Status != tandem.DocumentPublished && h.wf.CheckPublish(*doc) == nil
	h.render(w, r, http.StatusOK, "doc", page{Title: doc.Title, Nav: "docs", Notice: notice(r), Data: d})
}

// reviewStep takes a review step posted from the document page or the review page.
func (h *handler) reviewStep(w http.ResponseWriter, r *http.Request, doc *tandem.Document, action string) {
	steps := map[string]struct {
		a      review.Action
		notice string
	}{
		"submit":          {review.Submit, "submitted"},
		"approve":         {review.Approve, "approved"},
		"request-changes": {review.RequestChanges, "changes"},
	}
	step := steps[action]
	version := 0
	if v := r.PostFormValue("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			h.fail(w, r, tandem.Errorf(tandem.EINVALID, "version must be a positive number"))
			return
		}
		version = n
	}
	if _, err := h.wf.Take(r.Context(), doc.ID, version, step.a, h.who(r.Context()), r.PostFormValue("comment")); err != nil {
		h.fail(w, r, err)
		return
	}
	target := docPath(doc.ID)
	if live, isNext := review.LiveID(doc.ID); isNext && step.a == review.Approve {
		target = docPath(live) // the next version is gone into it
	}
	if r.PostFormValue("from") == "review" {
		target = "/kb/review"
	}
	htmlpage.Redirect(w, r, target, step.notice)
}

// reviewItem is a document in review with its latest round.
type reviewItem struct {
	Doc       tandem.Document
	Review    *tandem.DocumentReview
	CanReview bool
}

func (h *handler) handleReviewList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	docs, err := h.store.ListDocuments(ctx, storage.DocumentFilter{Status: tandem.DocumentInReview, Limit: reviewListLimit})
	if err != nil {
		h.fail(w, r, fmt.Errorf("list documents: %w", err))
		return
	}
	who := h.who(ctx)
	items := make([]reviewItem, 0, len(docs))
	for _, d := range docs {
		last, err := h.wf.LastReview(ctx, d.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		_, err = review.Transition(d, last, review.Approve, who, "", h.cfg.RequireReview.Requires(d.Collection))
		items = append(items, reviewItem{Doc: d, Review: last, CanReview: err == nil})
	}
	h.render(w, r, http.StatusOK, "review", page{Title: "Review", Nav: "review", Notice: notice(r), Data: items})
}

// diffLine is one line of a line diff: Op is ' ' (kept), '-' (removed) or '+' (added).
type diffLine struct {
	Op   string
	Text string
}

// lineDiff is a longest-common-subsequence line diff of a against b; nil when either is too
// long to compare cheaply.
func lineDiff(a, b string) []diffLine {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x) > maxDiffLines || len(y) > maxDiffLines {
		return nil
	}
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, diffLine{" ", x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, diffLine{"-", x[i]})
			i++
		default:
			out = append(out, diffLine{"+", y[j]})
			j++
		}
	}
	return out
}
