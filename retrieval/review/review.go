// Package review is the review-before-publish workflow of knowledge documents: an editor
// submits a draft (draft → in_review), another editor or an admin approves it (→ published)
// or requests changes with a comment (→ draft, the comment kept). Each step is audited.
//
// Where a collection's Rule requires review, publishing directly is refused ("needs
// review") and only an approval publishes; elsewhere (the default) editors may still
// publish drafts directly. Collections belong to bots, so the rule is the bot's
// (bots.Definition.RequiresReview), with the server's setting for collections no bot names.
// Editing a document in review ingests a new draft version, which ends the review round:
// approving always applies to the version that was submitted.
//
// A published document keeps answering customers while its next version is written and
// reviewed: where review is required, the editor saves an edit of a published document as a
// separate draft document, its next version (NextID: the id with NextSuffix), which only
// published documents' retrieval never sees. Approving the next version re-ingests its
// content into the published document (a new version, still published) and deletes it.
package review

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
)

// Action is a step of the workflow.
type Action string

// Workflow steps; Publish is a direct publication without review.
const (
	Submit         Action = "submit"
	Approve        Action = "approve"
	RequestChanges Action = "request_changes"
	Publish        Action = "publish"
)

// Audit actions appended by the workflow.
const (
	AuditSubmit         = "document.submit"
	AuditApprove        = "document.approve"
	AuditRequestChanges = "document.request_changes"
)

// MaxCommentRunes bounds a review comment.
const MaxCommentRunes = 2000

// Actor is who takes a step: Name is the audit actor ("agent:<id>", "cli"); an admin may
// review their own submission, anyone else may not.
type Actor struct {
	Name  string
	Admin bool
}

// Transition returns the status document d moves to when by takes action a, or why it may
// not: a step that does not apply to d's status gives ECONFLICT, reviewing one's own
// submission or publishing without review when it is required EFORBIDDEN, a request for
// changes without a comment EINVALID. last is d's latest review round (nil when none).
func Transition(d tandem.Document, last *tandem.DocumentReview, a Action, by Actor, comment string, requireReview bool) (tandem.DocumentStatus, error) {
	switch a {
	case Submit:
		if d.Status != tandem.DocumentDraft {
			return "", tandem.Errorf(tandem.ECONFLICT, "only a draft can be submitted for review; %q is %s", d.ID, statusText(d.Status))
		}
		return tandem.DocumentInReview, nil
	case Approve, RequestChanges:
		if d.Status != tandem.DocumentInReview {
			return "", tandem.Errorf(tandem.ECONFLICT, "%q is %s, not in review", d.ID, statusText(d.Status))
		}
		if last != nil && last.SubmittedBy == by.Name && !by.Admin {
			return "", tandem.Errorf(tandem.EFORBIDDEN, "another editor must review %q: you submitted it", d.ID)
		}
		if a == Approve {
			return tandem.DocumentPublished, nil
		}
		switch n := utf8.RuneCountInString(strings.TrimSpace(comment)); {
		case n == 0:
			return "", tandem.Errorf(tandem.EINVALID, "say what to change: a comment is required")
		case n > MaxCommentRunes:
			return "", tandem.Errorf(tandem.EINVALID, "the comment is longer than %d characters", MaxCommentRunes)
		}
		return tandem.DocumentDraft, nil
	case Publish:
		if _, isNext := LiveID(d.ID); isNext {
			return "", tandem.Errorf(tandem.EINVALID, "%q is the next version of a published document: approve it to publish it", d.ID)
		}
		if requireReview && d.Status != tandem.DocumentPublished {
			return "", tandem.Errorf(tandem.EFORBIDDEN, "needs review: %q must be submitted and approved before it is published", d.ID)
		}
		return tandem.DocumentPublished, nil
	}
	return "", tandem.Errorf(tandem.EINVALID, "unknown review action %q", a)
}

func statusText(s tandem.DocumentStatus) string {
	if s == tandem.DocumentInReview {
		return "in review"
	}
	return string(s)
}

// Rule reports whether documents of a collection must be reviewed before they are
// published. A nil Rule requires review nowhere.
type Rule func(collection string) bool

// Always is the rule that requires review everywhere (required true) or nowhere.
func Always(required bool) Rule { return func(string) bool { return required } }

// Requires reports whether r requires review in collection; a nil r never does.
func (r Rule) Requires(collection string) bool { return r != nil && r(collection) }

// Store is what the workflow reads and appends to; storage.Store satisfies it.
type Store interface {
	FindDocumentByID(ctx context.Context, id string) (*tandem.Document, error)
	FindDocumentReview(ctx context.Context, documentID string) (*tandem.DocumentReview, error)
	ListChunks(ctx context.Context, documentID string) ([]tandem.Chunk, error)
	AppendAudit(ctx context.Context, e *tandem.AuditEntry) error
}

// KnowledgeBase changes documents; *retrieval.KnowledgeBase satisfies it (and clears its
// answer cache, so an approval answers customers at once).
type KnowledgeBase interface {
	ReviewDocument(ctx context.Context, c storage.ReviewChange) error
	Ingest(ctx context.Context, collection string, srcs []retrieval.Source, progress retrieval.ProgressFunc) (retrieval.IngestStats, error)
	DeleteDocument(ctx context.Context, id string) error
}

// NextSuffix ends the id of a published document's next version (see the package comment).
// Editor and file ids cannot hold "~", so it names no other document.
const NextSuffix = "~next"

// NextID is the id of the next version of published document id.
func NextID(id string) string { return id + NextSuffix }

// LiveID returns the published document whose next version id is, and whether it is one.
func LiveID(id string) (string, bool) { return strings.CutSuffix(id, NextSuffix) }

// Workflow takes review steps on stored documents.
type Workflow struct {
	Store Store
	KB    KnowledgeBase
	// RequireReview says in which collections direct publication (Publish) of unpublished
	// documents is refused; nil: nowhere.
	RequireReview Rule
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// LastReview returns the latest review round of a document, nil when it has none.
func (w *Workflow) LastReview(ctx context.Context, id string) (*tandem.DocumentReview, error) {
	r, err := w.Store.FindDocumentReview(ctx, id)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find review: %w", err)
	}
	return r, nil
}

// CheckPublish reports whether d may be published directly (see Transition).
func (w *Workflow) CheckPublish(d tandem.Document) error {
	_, err := Transition(d, nil, Publish, Actor{}, "", w.RequireReview.Requires(d.Collection))
	return err
}

// Take applies action a (Submit, Approve or RequestChanges) to document id on behalf of by,
// records the review round and appends the audit entry. version is the version by saw (an
// editor's page); when it is not the stored one the step is refused with ECONFLICT, so an
// approval never publishes content its reviewer did not see. 0 takes the stored version.
// It returns the document as it was.
func (w *Workflow) Take(ctx context.Context, id string, version int, a Action, by Actor, comment string) (*tandem.Document, error) {
	if a == Publish {
		return nil, tandem.Errorf(tandem.EINVALID, "publish is not a review step")
	}
	d, err := w.Store.FindDocumentByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find document: %w", err)
	}
	if version != 0 && version != d.Version {
		return nil, tandem.Errorf(tandem.ECONFLICT, "%q changed since you opened it (now v%d); reload it", id, d.Version)
	}
	last, err := w.LastReview(ctx, id)
	if err != nil {
		return nil, err
	}
	to, err := Transition(*d, last, a, by, comment, w.RequireReview.Requires(d.Collection))
	if err != nil {
		return nil, err
	}
	live, isNext := LiveID(id)
	applyNext := isNext && to == tandem.DocumentPublished
	if applyNext {
		to = tandem.DocumentInReview // it never answers itself: publishNext copies it
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	r := tandem.DocumentReview{DocumentID: id, SubmittedBy: by.Name, SubmittedAt: now()}
	audit := AuditSubmit
	if a != Submit {
		if last != nil {
			r.SubmittedBy, r.SubmittedAt = last.SubmittedBy, last.SubmittedAt
		}
		r.ReviewedBy, r.ReviewedAt = by.Name, now()
		audit = AuditApprove
		if a == RequestChanges {
			r.Comment, audit = strings.TrimSpace(comment), AuditRequestChanges
		}
	}
	if err := w.KB.ReviewDocument(ctx, storage.ReviewChange{Version: d.Version, From: d.Status, To: to, Review: r}); err != nil {
		return nil, err
	}
	detail := map[string]string{"version": strconv.Itoa(d.Version)}
	if applyNext {
		v, err := w.publishNext(ctx, d, live, r)
		if err != nil {
			return nil, err
		}
		id, detail["version"], detail["next"] = live, strconv.Itoa(v), d.ID
	}
	if r.Comment != "" {
		detail["comment"] = r.Comment
	}
	if err := w.Store.AppendAudit(ctx, &tandem.AuditEntry{Actor: by.Name, Action: audit, Subject: id, Detail: detail}); err != nil {
		return nil, fmt.Errorf("audit %s: %w", audit, err)
	}
	return d, nil
}

// publishNext ingests the approved next version into the published document live, records
// the review round there and deletes the next version. It returns live's new version.
func (w *Workflow) publishNext(ctx context.Context, next *tandem.Document, live string, r tandem.DocumentReview) (int, error) {
	chunks, err := w.Store.ListChunks(ctx, next.ID)
	if err != nil {
		return 0, fmt.Errorf("list chunks: %w", err)
	}
	origin := next.Source
	if old, err := w.Store.FindDocumentByID(ctx, live); err == nil {
		origin = old.Source
	}
	src := retrieval.Source{ID: retrieval.LocalID(next.Collection, live), Title: next.Title, Body: next.Body, Kind: retrieval.KindOf(next, chunks),
		Origin: origin, URL: next.URL, Tags: next.Tags, Language: next.Language, Status: tandem.DocumentPublished}
	if _, err := w.KB.Ingest(ctx, next.Collection, []retrieval.Source{src}, nil); err != nil {
		return 0, fmt.Errorf("publish next version: %w", err)
	}
	d, err := w.Store.FindDocumentByID(ctx, live)
	if err != nil {
		return 0, fmt.Errorf("find document: %w", err)
	}
	r.DocumentID = live
	if err := w.KB.ReviewDocument(ctx, storage.ReviewChange{Version: d.Version, From: d.Status, To: tandem.DocumentPublished, Review: r}); err != nil {
		return 0, err
	}
	if err := w.KB.DeleteDocument(ctx, next.ID); err != nil {
		return 0, fmt.Errorf("delete next version: %w", err)
	}
	return d.Version, nil
}
