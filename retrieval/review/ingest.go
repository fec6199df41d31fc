package review

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
)

// AuditIngestUnreviewed records an ingestion that published documents directly although
// their collection requires review (`tandem kb ingest --publish`).
const AuditIngestUnreviewed = "document.ingest_unreviewed"

// Stage rewrites srcs, bound for collection, so that ingesting them publishes nothing and
// unpublishes nothing: each becomes a draft, whatever its front matter says, and one that
// changes a published document becomes that document's next version (NextID), so the
// published text keeps answering customers until the change is approved. A source equal
// to its published document is left as it is (ingestion finds it unchanged).
func Stage(ctx context.Context, store Store, collection string, srcs []retrieval.Source) ([]retrieval.Source, error) {
	out := make([]retrieval.Source, len(srcs))
	for i, s := range srcs {
		s.Status = tandem.DocumentDraft
		if _, isNext := LiveID(s.ID); !isNext {
			d, err := store.FindDocumentByID(ctx, retrieval.DocumentID(collection, s.ID))
			switch {
			case tandem.ErrorCode(err) == tandem.ENOTFOUND:
			case err != nil:
				return nil, fmt.Errorf("find document: %w", err)
			case d.Status == tandem.DocumentPublished && d.ContentHash == s.Hash():
				s.Status = tandem.DocumentPublished
			case d.Status == tandem.DocumentPublished:
				s.ID += NextSuffix
			}
		}
		out[i] = s
	}
	return out, nil
}

// IngestStaged ingests srcs into collection for review (see Stage) and, with submit,
// submits every resulting draft for review on behalf of by. It returns the ingestion's
// counts and the ids of the documents submitted.
func (w *Workflow) IngestStaged(ctx context.Context, collection string, srcs []retrieval.Source, submit bool, by Actor, progress retrieval.ProgressFunc) (retrieval.IngestStats, []string, error) {
	staged, err := Stage(ctx, w.Store, collection, srcs)
	if err != nil {
		return retrieval.IngestStats{}, nil, err
	}
	st, err := w.KB.Ingest(ctx, collection, staged, progress)
	if err != nil || !submit {
		return st, nil, err
	}
	var submitted []string
	for _, s := range staged {
		id := retrieval.DocumentID(collection, s.ID)
		d, err := w.Store.FindDocumentByID(ctx, id)
		if err != nil {
			return st, submitted, fmt.Errorf("find document: %w", err)
		}
		if d.Status != tandem.DocumentDraft {
			continue // published and unchanged, or already in review
		}
		if _, err := w.Take(ctx, id, d.Version, Submit, by, ""); err != nil {
			return st, submitted, err
		}
		submitted = append(submitted, id)
	}
	return st, submitted, nil
}

// AuditBypass records that by ingested documents into collection published, bypassing
// the review the collection requires; what names the input (a path, a file).
func AuditBypass(ctx context.Context, store Store, by, collection, what string, st retrieval.IngestStats) error {
	err := store.AppendAudit(ctx, &tandem.AuditEntry{Actor: by, Action: AuditIngestUnreviewed, Subject: collection, Detail: map[string]string{
		"review": "bypassed: published without review although the collection requires it", "source": what,
		"documents": strconv.Itoa(st.Documents), "added": strconv.Itoa(st.Added), "updated": strconv.Itoa(st.Updated),
	}})
	if err != nil {
		return fmt.Errorf("audit %s: %w", AuditIngestUnreviewed, err)
	}
	return nil
}
