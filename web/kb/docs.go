package kb

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

type listData struct {
	Query, Collection, Status, Tag string
	Collections                    []string
	Docs                           []tandem.Document
	Page                           int
	PrevURL, NextURL               string
}

func (h *handler) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := listData{Query: strings.TrimSpace(q.Get("q")), Collection: q.Get("collection"), Status: q.Get("status"), Tag: strings.TrimSpace(q.Get("tag"))}
	switch tandem.DocumentStatus(d.Status) {
	case "", tandem.DocumentDraft, tandem.DocumentInReview, tandem.DocumentPublished:
	default:
		h.fail(w, r, tandem.Errorf(tandem.EINVALID, "status must be draft, in_review or published"))
		return
	}
	d.Page = 1
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100000 {
			h.fail(w, r, tandem.Errorf(tandem.EINVALID, "page must be a positive number"))
			return
		}
		d.Page = n
	}
	ctx := r.Context()
	cols, err := h.store.ListCollections(ctx)
	if err != nil {
		h.fail(w, r, fmt.Errorf("list collections: %w", err))
		return
	}
	for _, c := range cols {
		d.Collections = append(d.Collections, c.Name)
	}
	size := h.cfg.PageSize
	docs, err := h.store.ListDocuments(ctx, storage.DocumentFilter{
		Collection: d.Collection, Status: tandem.DocumentStatus(d.Status), Tag: d.Tag, Query: d.Query,
		Limit: size + 1, Offset: (d.Page - 1) * size,
	})
	if err != nil {
		h.fail(w, r, fmt.Errorf("list documents: %w", err))
		return
	}
	more := len(docs) > size
	if more {
		docs = docs[:size]
	}
	for _, doc := range docs {
		if !retrieval.IsInternalDocument(doc) {
			d.Docs = append(d.Docs, doc)
		}
	}
	pageURL := func(n int) string {
		v := url.Values{}
		for k, s := range map[string]string{"q": d.Query, "collection": d.Collection, "status": d.Status, "tag": d.Tag} {
			if s != "" {
				v.Set(k, s)
			}
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/kb/"
		}
		return "/kb/?" + v.Encode()
	}
	if d.Page > 1 {
		d.PrevURL = pageURL(d.Page - 1)
	}
	if more {
		d.NextURL = pageURL(d.Page + 1)
	}
	h.render(w, r, http.StatusOK, "list", page{Title: "Knowledge base", Nav: "docs", Notice: notice(r), Data: d})
}

// actions are the suffixes of document URLs; a document id that ends in one of them is
// read as that action on the shorter id.
var postActions = []string{"edit", "publish", "unpublish", "delete", "submit", "approve", "request-changes"}

// splitAction splits ".../publish" into the document id and the action.
func splitAction(path string) (id, action string) {
	if i := strings.LastIndex(path, "/"); i > 0 && slices.Contains(postActions, path[i+1:]) {
		return path[:i], path[i+1:]
	}
	return path, ""
}

func (h *handler) handleDocGet(w http.ResponseWriter, r *http.Request) {
	id, action := splitAction(r.PathValue("path"))
	if action != "" && action != "edit" && action != "delete" {
		h.methodNotAllowed(w, r, http.MethodPost)
		return
	}
	doc, err := h.findDoc(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch action {
	case "edit":
		if next := h.nextOf(r, doc); next != nil {
			// One next version at a time: edit it rather than the published document.
			http.Redirect(w, r, docPath(next.ID, "edit"), http.StatusSeeOther)
			return
		}
		h.render(w, r, http.StatusOK, "edit", page{Title: "Edit " + doc.Title, Nav: "docs", Data: formFromDoc(doc)})
	case "delete":
		h.render(w, r, http.StatusOK, "delete", page{Title: "Delete " + doc.Title, Nav: "docs", Data: docData{Doc: doc}})
	default:
		h.renderDoc(w, r, doc)
	}
}

func (h *handler) findDoc(r *http.Request, id string) (*tandem.Document, error) {
	doc, err := h.store.FindDocumentByID(r.Context(), id)
	if err != nil {
		if tandem.ErrorCode(err) == tandem.ENOTFOUND {
			return nil, tandem.Errorf(tandem.ENOTFOUND, "no document %q", id)
		}
		return nil, fmt.Errorf("find document: %w", err)
	}
	if retrieval.IsInternalDocument(*doc) {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no document %q", id)
	}
	return doc, nil
}

func (h *handler) handleDocPost(w http.ResponseWriter, r *http.Request) {
	id, action := splitAction(r.PathValue("path"))
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, formError(err))
		return
	}
	doc, err := h.findDoc(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	switch action {
	case "edit":
		h.saveEdit(w, r, doc)
	case "submit", "approve", "request-changes":
		h.reviewStep(w, r, doc, action)
	case "publish", "unpublish":
		status, act := tandem.DocumentPublished, ActionPublish
		if action == "unpublish" {
			status, act = tandem.DocumentDraft, ActionUnpublish
		}
		if action == "publish" {
			if err := h.wf.CheckPublish(*doc); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		if doc.Status != status {
			if err := h.kb.SetDocumentStatus(ctx, doc.ID, status); err != nil {
				h.fail(w, r, err)
				return
			}
			if err := h.audit(ctx, act, doc.ID, map[string]string{"version": strconv.Itoa(doc.Version)}); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		htmlpage.Redirect(w, r, docPath(doc.ID), action+"ed")
	case "delete":
		if r.PostFormValue("confirm") != "yes" {
			h.fail(w, r, tandem.Errorf(tandem.EINVALID, "confirm the deletion by ticking the box"))
			return
		}
		if err := h.kb.DeleteDocument(ctx, doc.ID); err != nil {
			h.fail(w, r, err)
			return
		}
		if _, isNext := review.LiveID(doc.ID); !isNext {
			if err := h.kb.DeleteDocument(ctx, review.NextID(doc.ID)); err != nil && tandem.ErrorCode(err) != tandem.ENOTFOUND {
				h.fail(w, r, err)
				return
			}
		}
		if err := h.audit(ctx, ActionDelete, doc.ID, map[string]string{"title": doc.Title, "version": strconv.Itoa(doc.Version)}); err != nil {
			h.fail(w, r, err)
			return
		}
		htmlpage.Redirect(w, r, "/kb/", "deleted")
	default:
		h.methodNotAllowed(w, r, http.MethodGet)
	}
}

func formError(err error) error {
	if strings.Contains(err.Error(), "too large") {
		return tandem.Errorf(tandem.ETOOLARGE, "the form is too large")
	}
	return tandem.Errorf(tandem.EINVALID, "cannot read the form: %v", err)
}

// articleForm is the edit and new-article form.
type articleForm struct {
	DocID       string // empty for a new article
	Collection  string
	LocalID     string
	Title       string
	Body        string
	Tags        string
	URL         string
	FAQ         bool
	Collections []string
	Error       string
}

func formFromDoc(d *tandem.Document) articleForm {
	return articleForm{DocID: d.ID, Collection: d.Collection, LocalID: retrieval.LocalID(d.Collection, d.ID),
		Title: d.Title, Body: d.Body, Tags: strings.Join(d.Tags, ", "), URL: d.URL}
}

func readForm(r *http.Request) articleForm {
	return articleForm{
		Collection: strings.TrimSpace(r.PostFormValue("collection")),
		LocalID:    strings.TrimSpace(r.PostFormValue("id")),
		Title:      strings.TrimSpace(r.PostFormValue("title")),
		Body:       strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n"),
		Tags:       r.PostFormValue("tags"),
		URL:        strings.TrimSpace(r.PostFormValue("url")),
		FAQ:        r.PostFormValue("faq") == "on",
	}
}

// parseTags splits a comma-separated tag list, trimmed, lower-cased and without repeats.
func parseTags(s string) []string {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

var idRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._/-]*$`)

// validate reports the first problem of the form, "" when there is none.
func (f articleForm) validate() string {
	switch {
	case f.Title == "":
		return "A title is required."
	case utf8.RuneCountInString(f.Title) > 300:
		return "The title is longer than 300 characters."
	case strings.TrimSpace(f.Body) == "":
		return "A body is required."
	case f.URL != "" && !validURL(f.URL):
		return "The URL must start with http:// or https://."
	}
	return ""
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (h *handler) saveEdit(w http.ResponseWriter, r *http.Request, doc *tandem.Document) {
	ctx := r.Context()
	f := readForm(r)
	f.DocID, f.Collection, f.LocalID = doc.ID, doc.Collection, retrieval.LocalID(doc.Collection, doc.ID)
	if msg := f.validate(); msg != "" {
		f.Error = msg
		h.render(w, r, http.StatusBadRequest, "edit", page{Title: "Edit " + doc.Title, Nav: "docs", Data: f})
		return
	}
	tags := parseTags(f.Tags)
	if f.Title == doc.Title && f.Body == doc.Body && f.URL == doc.URL && slices.Equal(tags, doc.Tags) {
		htmlpage.Redirect(w, r, docPath(doc.ID), "unchanged")
		return
	}
	chunks, err := h.store.ListChunks(ctx, doc.ID)
	if err != nil {
		h.fail(w, r, fmt.Errorf("list chunks: %w", err))
		return
	}
	// With review required, a published document keeps answering: the edit becomes its
	// next version, reviewed aside (retrieval/review).
	_, isNext := review.LiveID(doc.ID)
	toNext := h.cfg.RequireReview.Requires(doc.Collection) && doc.Status == tandem.DocumentPublished && !isNext
	id := doc.ID
	if toNext {
		f.LocalID += review.NextSuffix
		id = review.NextID(doc.ID)
	}
	src := retrieval.Source{
		ID: f.LocalID, Title: f.Title, Body: f.Body, Kind: retrieval.KindOf(doc, chunks), Origin: doc.Source,
		URL: f.URL, Tags: tags, Language: doc.Language, Status: tandem.DocumentDraft,
	}
	st, err := h.kb.Ingest(ctx, doc.Collection, []retrieval.Source{src}, nil)
	if err != nil {
		h.fail(w, r, fmt.Errorf("save document: %w", err))
		return
	}
	if st.Updated == 0 && st.Added == 0 {
		htmlpage.Redirect(w, r, docPath(id), "unchanged")
		return
	}
	version := doc.Version + 1
	if saved, err := h.store.FindDocumentByID(ctx, id); err == nil {
		version = saved.Version
	}
	if err := h.audit(ctx, ActionUpdate, id, map[string]string{"version": strconv.Itoa(version), "chunks": strconv.Itoa(st.Chunks)}); err != nil {
		h.fail(w, r, err)
		return
	}
	if toNext {
		htmlpage.Redirect(w, r, docPath(id), "next")
		return
	}
	htmlpage.Redirect(w, r, docPath(id), "saved")
}

func (h *handler) collections(r *http.Request) []string {
	names := []string{h.cfg.DefaultCollection}
	cols, err := h.store.ListCollections(r.Context())
	if err != nil {
		h.cfg.Logger.WarnContext(r.Context(), "list collections", "error", err)
	}
	for _, c := range cols {
		if !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

func (h *handler) handleNewForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := articleForm{Collection: h.cfg.DefaultCollection, Title: q.Get("title"), FAQ: q.Get("faq") == "1", Collections: h.collections(r)}
	h.render(w, r, http.StatusOK, "edit", page{Title: "New article", Nav: "new", Data: f})
}

// slug makes a document id from a title.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func (h *handler) handleNewSave(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, formError(err))
		return
	}
	ctx := r.Context()
	f := readForm(r)
	f.Collections = h.collections(r)
	if f.Collection == "" {
		f.Collection = h.cfg.DefaultCollection
	}
	if f.LocalID == "" {
		f.LocalID = slug(f.Title)
	}
	msg := f.validate()
	switch {
	case msg != "":
	case !idRE.MatchString(f.Collection) || strings.Contains(f.Collection, "/"):
		msg = "The collection name may hold letters, digits, '.', '_' and '-'."
	case f.LocalID == "" || !idRE.MatchString(f.LocalID) || strings.Contains(f.LocalID, "..") || strings.HasSuffix(f.LocalID, "/"):
		msg = "The id may hold letters, digits, '.', '_', '-' and '/'."
	case slices.Contains(postActions, f.LocalID[strings.LastIndex(f.LocalID, "/")+1:]):
		msg = "The id may not end in " + strings.Join(postActions, ", ") + "."
	}
	if msg == "" {
		id := retrieval.DocumentID(f.Collection, f.LocalID)
		_, err := h.store.FindDocumentByID(ctx, id)
		switch {
		case err == nil:
			msg = "A document with the id " + id + " exists already; choose another id."
		case tandem.ErrorCode(err) != tandem.ENOTFOUND:
			h.fail(w, r, fmt.Errorf("find document: %w", err))
			return
		}
	}
	if msg != "" {
		f.Error = msg
		h.render(w, r, http.StatusBadRequest, "edit", page{Title: "New article", Nav: "new", Data: f})
		return
	}
	kind := ingest.KindMarkdown
	if f.FAQ {
		kind = ingest.KindFAQ
	}
	src := retrieval.Source{ID: f.LocalID, Title: f.Title, Body: f.Body, Kind: kind, Origin: "editor",
		URL: f.URL, Tags: parseTags(f.Tags), Status: tandem.DocumentDraft}
	st, err := h.kb.Ingest(ctx, f.Collection, []retrieval.Source{src}, nil)
	if err != nil {
		h.fail(w, r, fmt.Errorf("create document: %w", err))
		return
	}
	id := retrieval.DocumentID(f.Collection, f.LocalID)
	if err := h.audit(ctx, ActionCreate, id, map[string]string{"chunks": strconv.Itoa(st.Chunks)}); err != nil {
		h.fail(w, r, err)
		return
	}
	htmlpage.Redirect(w, r, docPath(id), "created")
}
