// Package kb is the knowledge editor of Tandem's web app: pages under /kb/ where content
// editors list and search documents, read their chunks, edit or write articles and FAQ
// pairs (saved as drafts through the knowledge base, so chunks and embeddings follow),
// publish, unpublish and delete them, try a question against the knowledge base, see the
// customer questions that found no confident answer grouped by similarity, see what
// customers thought of the answers each document gave (/kb/feedback), and upload
// files whose ingestion progress streams to the page (server-sent events). Drafts may be
// submitted for review, and approved or sent back with a comment from /kb/review by
// another editor or an admin (package retrieval/review); in the collections where
// Config.RequireReview requires it (the rule of the bot owning the collection) only an
// approval publishes.
//
// Every change appends an audit entry (actor "editor"). State-changing requests are POST
// forms behind http.CrossOriginProtection; templates and static files are embedded and the
// pages use no inline script or style, so the server's strict Content-Security-Policy holds.
// Authentication of editors is left to Config.Authorize.
package kb

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// ActionUnanswered is the audit action of the questions the unanswered report groups.
const ActionUnanswered = tandem.AuditQuestionUnanswered

// Audit actions appended by the editor.
const (
	ActionCreate    = "document.create"
	ActionUpdate    = "document.update"
	ActionPublish   = "document.publish"
	ActionUnpublish = "document.unpublish"
	ActionDelete    = "document.delete"
	ActionIngest    = "document.ingest"
)

// Actor is the audit actor of editor changes when Deps.Actor names no one (staff without
// accounts).
const Actor = "editor"

// KnowledgeBase is what the editor needs from the knowledge base; *retrieval.KnowledgeBase
// satisfies it. Implementations must be safe for concurrent use; Ingest is idempotent
// (unchanged sources are skipped) and replaces a changed document's chunks atomically.
type KnowledgeBase interface {
	Ingest(ctx context.Context, collection string, srcs []retrieval.Source, progress retrieval.ProgressFunc) (retrieval.IngestStats, error)
	Search(ctx context.Context, query string, f storage.SearchFilter) ([]retrieval.Passage, error)
	Answer(ctx context.Context, question string, opts retrieval.AnswerOptions) (*retrieval.Answer, error)
	// Status changes and deletions go through the knowledge base so that customers' answers
	// reflect them at once (it caches answers).
	SetDocumentStatus(ctx context.Context, id string, status tandem.DocumentStatus) error
	ReviewDocument(ctx context.Context, c storage.ReviewChange) error
	DeleteDocument(ctx context.Context, id string) error
}

// Store is what the editor reads and changes in the store; storage.Store satisfies it.
// A missing document returns a *tandem.Error with code ENOTFOUND.
type Store interface {
	ListCollections(ctx context.Context) ([]tandem.Collection, error)
	ListDocuments(ctx context.Context, f storage.DocumentFilter) ([]tandem.Document, error)
	FindDocumentByID(ctx context.Context, id string) (*tandem.Document, error)
	FindDocumentReview(ctx context.Context, documentID string) (*tandem.DocumentReview, error)
	ListChunks(ctx context.Context, documentID string) ([]tandem.Chunk, error)
	AppendAudit(ctx context.Context, e *tandem.AuditEntry) error
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]tandem.AuditEntry, error)
	FeedbackStore
}

var (
	_ KnowledgeBase = (*retrieval.KnowledgeBase)(nil)
	_ Store         = storage.Store(nil)
)

// Defaults of Config.
const (
	DefaultCollection      = "default"
	DefaultMaxUploadBytes  = 10 << 20
	DefaultMaxFormBytes    = 1 << 20
	DefaultPageSize        = 25
	DefaultUnansweredLimit = 1000
	DefaultIngestTimeout   = 10 * time.Minute
)

// Config configures the editor. The zero value is usable (see WithDefaults).
type Config struct {
	// DefaultCollection is the collection new articles and uploads go to unless the form
	// names another. Default "default".
	DefaultCollection string
	// MaxUploadBytes bounds an uploaded file; larger uploads get 413. Default 10 MiB.
	MaxUploadBytes int64
	// MaxFormBytes bounds an edit form (title, body, tags, url); larger gets 413. Default 1 MiB.
	MaxFormBytes int64
	// PageSize is how many documents a list page shows. Default 25.
	PageSize int
	// UnansweredLimit is how many recent unanswered questions the report groups. Default 1000.
	UnansweredLimit int
	// GroupSimilarity is the similarity for grouping unanswered questions (see
	// retrieval.GroupQuestions); 0 means its default.
	GroupSimilarity float64
	// IngestTimeout bounds one upload's ingestion, which outlives the upload request.
	// Default 10 minutes.
	IngestTimeout time.Duration
	// Authorize, when set, is called before every request; an error refuses it (a
	// *tandem.Error with EUNAUTHORIZED gives 401, EFORBIDDEN 403). nil allows everyone:
	// mount the editor only where editors are trusted until authentication exists.
	Authorize func(*http.Request) error
	// RequireReview says which collections refuse to publish a document that was not
	// approved ("needs review"): there only an approval publishes, an upload is saved as
	// drafts, and an edit of a published document is saved as its next version, reviewed
	// while the published one keeps answering (see retrieval/review). Collections belong
	// to bots, so the server passes the rule of the bot that answers from the collection
	// (bots.Registry.ReviewRule). nil: review is optional everywhere.
	RequireReview review.Rule
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
	// Now is the end of the period customers' votes are summed over. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.DefaultCollection == "" {
		c.DefaultCollection = DefaultCollection
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.MaxFormBytes <= 0 {
		c.MaxFormBytes = DefaultMaxFormBytes
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.UnansweredLimit <= 0 {
		c.UnansweredLimit = DefaultUnansweredLimit
	}
	if c.IngestTimeout <= 0 {
		c.IngestTimeout = DefaultIngestTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration New would not accept as given, as a *tandem.Error with
// code EINVALID (New applies WithDefaults, so zero values are fine).
func (c Config) Validate() error {
	switch {
	case c.DefaultCollection != "" && (!idRE.MatchString(c.DefaultCollection) || strings.Contains(c.DefaultCollection, "/")):
		return tandem.Errorf(tandem.EINVALID, "kb: default collection %q may hold letters, digits, '.', '_' and '-'", c.DefaultCollection)
	case c.MaxUploadBytes < 0 || c.MaxFormBytes < 0 || c.PageSize < 0 || c.UnansweredLimit < 0 || c.IngestTimeout < 0:
		return tandem.Errorf(tandem.EINVALID, "kb: limits must not be negative")
	case c.PageSize > 500:
		return tandem.Errorf(tandem.EINVALID, "kb: page size %d is above 500", c.PageSize)
	case c.GroupSimilarity < 0 || c.GroupSimilarity > 1:
		return tandem.Errorf(tandem.EINVALID, "kb: group similarity must be within [0,1]")
	}
	return nil
}

// Deps are the editor's collaborators; KB and Store are required.
type Deps struct {
	KB    KnowledgeBase
	Store Store
	// Voice returns the language model and persona of the bot that answers from collection,
	// so "try a question" answers as customers of that bot would be answered (nil model: the
	// knowledge base's own). Optional.
	Voice func(collection string) (llms.Model, string)
	// Actor names the signed-in editor of a request's context for the audit log (with staff
	// accounts, "agent:<id>"); nil or "" records Actor. Optional.
	Actor func(ctx context.Context) string
	// Admin reports whether the signed-in editor is an admin, who may review their own
	// submissions; other editors may not. When Actor names no one (no accounts), editors
	// cannot be told apart and everyone may review. Optional.
	Admin func(ctx context.Context) bool
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type handler struct {
	cfg   Config
	kb    KnowledgeBase
	store Store
	voice func(collection string) (llms.Model, string)
	actor func(ctx context.Context) string // Deps.Actor
	admin func(ctx context.Context) bool   // Deps.Admin
	wf    *review.Workflow
	pages *htmlpage.Pages
	jobs  *jobs
}

// New returns the editor's handler, to be mounted at "/kb/". It panics when a dependency
// is missing or cfg is invalid (wiring errors; call Config.Validate first to report them).
func New(cfg Config, deps Deps) http.Handler {
	if deps.KB == nil || deps.Store == nil {
		panic("kb.New: Deps.KB and Deps.Store are required")
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	h := &handler{cfg: cfg.WithDefaults(), kb: deps.KB, store: deps.Store, voice: deps.Voice, actor: deps.Actor, admin: deps.Admin, jobs: newJobs()}
	h.wf = &review.Workflow{Store: deps.Store, KB: deps.KB, RequireReview: cfg.RequireReview}

	h.pages = parsePages(h.cfg.Logger)
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /kb/static/", http.StripPrefix("/kb/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /kb/{$}", h.handleList)
	mux.HandleFunc("GET /kb/docs/{path...}", h.handleDocGet)
	mux.HandleFunc("POST /kb/docs/{path...}", h.handleDocPost)
	mux.HandleFunc("GET /kb/new", h.handleNewForm)
	mux.HandleFunc("POST /kb/new", h.handleNewSave)
	mux.HandleFunc("GET /kb/review", h.handleReviewList)
	mux.HandleFunc("GET /kb/try", h.handleTry)
	mux.HandleFunc("GET /kb/unanswered", h.handleUnanswered)
	mux.HandleFunc("GET /kb/feedback", h.handleFeedback)
	mux.HandleFunc("GET /kb/ingest", h.handleIngestForm)
	mux.HandleFunc("POST /kb/ingest", h.handleIngestUpload)
	mux.HandleFunc("GET /kb/ingest/{job}", h.handleIngestJob)
	mux.HandleFunc("GET /kb/ingest/{job}/events", h.handleIngestEvents)
	mux.HandleFunc("GET /kb/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, tandem.Errorf(tandem.ENOTFOUND, "no such page"))
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "cross-origin request refused; submit the form from the editor itself"))
	}))
	return cop.Handler(h.authorize(mux))
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

func (h *handler) authorize(next http.Handler) http.Handler {
	if h.cfg.Authorize == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.cfg.Authorize(r); err != nil {
			if tandem.ErrorCode(err) == tandem.EINTERNAL {
				err = tandem.Errorf(tandem.EUNAUTHORIZED, "editors must sign in")
			}
			h.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// page is the data every page template gets.
type page struct {
	Title  string
	Nav    string // which navigation entry is current
	Notice string
	Data   any
}

func parsePages(logger *slog.Logger) *htmlpage.Pages {
	funcs := template.FuncMap{
		"docpath":  docPath,
		"join":     strings.Join,
		"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"snippet":  snippet,
		"pct":      func(f float64) string { return formatFloat(f*100, 0) + "%" },
		"reason":   reasonText,
		"score":    func(f float64) string { return formatFloat(f, 4) },
		"localid":  retrieval.LocalID,
		"add":      func(a, b int) int { return a + b },
		"rankText": rankText,
		"status":   statusText,
	}
	return htmlpage.Parse("kb", templateFS, funcs, logger)
}

// render writes a page with status.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	h.pages.Render(w, r, status, name, p)
}

// fail renders err as the error page (htmlpage.Pages.Failure).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	d := h.pages.Failure(r, err)
	h.render(w, r, d.Status, "error", page{Title: http.StatusText(d.Status), Data: d})
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.render(w, r, http.StatusMethodNotAllowed, "error", page{Title: "Method not allowed", Data: htmlpage.ErrorData{
		Status: http.StatusMethodNotAllowed, Code: tandem.EINVALID, Message: "method " + r.Method + " not allowed; use " + allow,
	}})
}

// docPath is the editor URL of a document id (ids contain "/": each segment is escaped).
func docPath(id string, suffix ...string) string {
	segs := strings.Split(id, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	p := "/kb/docs/" + strings.Join(segs, "/")
	for _, s := range suffix {
		p += "/" + s
	}
	return p
}

// notices are the messages shown after a redirect (htmlpage.Redirect).
var notices = map[string]string{
	"saved":       "Saved as a draft: a new version was ingested. Publish it to let customers see it.",
	"unchanged":   "Nothing changed, so nothing was saved.",
	"created":     "Article created as a draft.",
	"published":   "Published: customers can now get answers from this document.",
	"unpublished": "Unpublished: the document is a draft again and no longer answers customers.",
	"deleted":     "Document deleted.",
	"submitted":   "Submitted for review: another editor or an admin can approve it from the Review page.",
	"approved":    "Approved and published: customers can now get answers from this document.",
	"changes":     "Changes requested: the document is a draft again, with your comment.",
	"next":        "Saved as the next version, a draft: the published version keeps answering customers until this one is approved.",
}

func notice(r *http.Request) string { return htmlpage.Notice(r, notices) }

// who is the signed-in editor as a reviewer; without accounts (Deps.Actor names no one)
// editors cannot be told apart, so the rule that another editor reviews cannot hold.
func (h *handler) who(ctx context.Context) review.Actor {
	if h.actor != nil {
		if a := h.actor(ctx); a != "" {
			return review.Actor{Name: a, Admin: h.admin != nil && h.admin(ctx)}
		}
	}
	return review.Actor{Name: Actor, Admin: true}
}

func (h *handler) audit(ctx context.Context, action, subject string, detail map[string]string) error {
	if err := h.store.AppendAudit(ctx, &tandem.AuditEntry{Actor: h.who(ctx).Name, Action: action, Subject: subject, Detail: detail}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
