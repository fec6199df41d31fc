// Package ingest turns files into knowledge sources and sources into chunks: Markdown (with
// front matter), HTML, plain text and PDF through langchaingo's document loaders, and FAQ
// files (CSV question,answer[,url,tags] and JSONL {"id","title","text","url","tags"}).
// Chunking is structure-aware: Markdown sections keep their heading, FAQ pairs stay whole.
package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
)

// Kind says how a source's body is structured, which decides how it is chunked.
type Kind string

// Source kinds.
const (
	KindMarkdown Kind = "markdown"
	KindText     Kind = "text"
	KindFAQ      Kind = "faq" // Title is the question, Body the answer: one chunk
)

// Source is one document to ingest, before chunking and embedding.
type Source struct {
	ID       string // stable identifier within the collection (front matter id, path, FAQ id)
	Title    string
	Body     string
	Kind     Kind
	Origin   string // file path or other origin, recorded as the document's Source
	URL      string
	Tags     []string
	Language string
	// Status is the status a new or changed document gets; empty means published.
	Status tandem.DocumentStatus
}

// Hash returns the content hash of the source: everything but its status, so re-ingesting
// an unchanged file is a no-op even after an editor published or unpublished it.
func (s Source) Hash() string {
	h := sha256.New()
	tags := slices.Clone(s.Tags)
	slices.Sort(tags)
	for _, f := range []string{string(s.Kind), s.Title, s.Body, s.URL, strings.Join(tags, "\x1f"), s.Language} {
		fmt.Fprintf(h, "%d:%s\x00", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Validate reports a source that cannot be stored.
func (s Source) Validate() error {
	switch {
	case strings.TrimSpace(s.ID) == "":
		return tandem.Errorf(tandem.EINVALID, "source %q has no id", s.Origin)
	case strings.ContainsAny(s.ID, "\x00\n"):
		return tandem.Errorf(tandem.EINVALID, "source id %q has control characters", s.ID)
	case strings.TrimSpace(s.Body) == "" && strings.TrimSpace(s.Title) == "":
		return tandem.Errorf(tandem.EINVALID, "source %q is empty", s.ID)
	}
	switch s.Status {
	case "", tandem.DocumentDraft, tandem.DocumentPublished:
	default:
		return tandem.Errorf(tandem.EINVALID, "source %q has unknown status %q", s.ID, s.Status)
	}
	return nil
}
