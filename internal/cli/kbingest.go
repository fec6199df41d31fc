package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
)

// runKBIngest runs `tandem kb ingest`. Where the collection requires review (the rule of
// the bot that answers from it, see reviewFlags), documents land as drafts, or in review
// with --submit, and a change to a published document becomes its next version; only
// --publish publishes them, and that bypass is audited.
func runKBIngest(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb ingest")
	kf := addKBFlags(env, fs)
	rf := addReviewFlags(env, fs)
	draft := fs.Bool("draft", false, "new documents start as drafts (default published, or drafts where review is required)")
	submit := fs.Bool("submit", false, "save documents as drafts and submit them for review (as cli)")
	publish := fs.Bool("publish", false, "publish every document; where review is required this bypasses it and is audited")
	kb, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tandem kb ingest needs a file or folder", errUsage)
	}
	if n := countTrue(*draft, *submit, *publish); n > 1 {
		return fmt.Errorf("%w: --draft, --submit and --publish exclude each other", errUsage)
	}
	rule, err := rf.rule()
	if err != nil {
		return err
	}
	needsReview := rule.Requires(*kf.collection)
	w := &review.Workflow{Store: store, KB: kb, RequireReview: rule}
	var (
		total     retrieval.IngestStats
		submitted []string
	)
	for _, p := range fs.Args() {
		progress, finish := progressFor(env, "ingest "+p)
		var st retrieval.IngestStats
		switch {
		case *publish:
			var republished int
			st, republished, err = ingestPublished(ctx, kb, store, *kf.collection, p, progress)
			if err == nil && needsReview && st.Added+st.Updated+republished > 0 {
				err = review.AuditBypass(ctx, store, cliReviewer.Name, *kf.collection, p, st)
			}
		case needsReview || *submit:
			var srcs []retrieval.Source
			if srcs, err = retrieval.LoadPath(ctx, p); err == nil {
				var ids []string
				st, ids, err = w.IngestStaged(ctx, *kf.collection, srcs, *submit, cliReviewer, progress)
				submitted = append(submitted, ids...)
			}
		case *draft:
			st, err = ingestDraft(ctx, kb, *kf.collection, p, progress)
		default:
			st, err = kb.IngestPath(ctx, *kf.collection, p, progress)
		}
		finish()
		if err != nil {
			return err
		}
		total.Documents += st.Documents
		total.Added += st.Added
		total.Updated += st.Updated
		total.Unchanged += st.Unchanged
		total.Chunks += st.Chunks
	}
	if *kf.format == "json" {
		return writeJSON(env.Stdout, struct {
			retrieval.IngestStats
			Submitted []string `json:"submitted,omitempty"`
		}{total, submitted})
	}
	fmt.Fprintf(env.Stdout, "%s: %d documents (%d added, %d updated, %d unchanged), %d chunks written\n",
		*kf.collection, total.Documents, total.Added, total.Updated, total.Unchanged, total.Chunks)
	switch {
	case *publish && needsReview:
		fmt.Fprintf(env.Stdout, "published without review although %s requires it (audited as %s)\n", *kf.collection, review.AuditIngestUnreviewed)
	case len(submitted) > 0:
		fmt.Fprintf(env.Stdout, "submitted for review: %s\n", strings.Join(submitted, ", "))
	case needsReview && !*submit:
		fmt.Fprintf(env.Stdout, "%s requires review: new and changed documents are drafts (changes to published ones their %s version); submit them with tandem kb submit, or ingest with --submit\n",
			*kf.collection, review.NextSuffix)
	}
	return nil
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// ingestDraft ingests path with new and changed documents as drafts unless their front
// matter says otherwise.
func ingestDraft(ctx context.Context, kb *retrieval.KnowledgeBase, collection, path string, progress retrieval.ProgressFunc) (retrieval.IngestStats, error) {
	_, st, err := ingestWithStatus(ctx, kb, collection, path, progress, func(s *retrieval.Source) {
		if s.Status == "" {
			s.Status = tandem.DocumentDraft
		}
	})
	return st, err
}

// ingestPublished ingests path with every document published: new and changed ones by
// ingestion, unchanged drafts and documents in review by setting their status. It returns
// how many of the latter it published.
func ingestPublished(ctx context.Context, kb *retrieval.KnowledgeBase, store storage.Store, collection, path string, progress retrieval.ProgressFunc) (retrieval.IngestStats, int, error) {
	srcs, st, err := ingestWithStatus(ctx, kb, collection, path, progress, func(s *retrieval.Source) { s.Status = tandem.DocumentPublished })
	if err != nil {
		return st, 0, err
	}
	n := 0
	for _, s := range srcs {
		id := retrieval.DocumentID(collection, s.ID)
		d, err := store.FindDocumentByID(ctx, id)
		if err != nil {
			return st, n, err
		}
		if d.Status != tandem.DocumentPublished {
			if err := store.SetDocumentStatus(ctx, id, tandem.DocumentPublished); err != nil {
				return st, n, err
			}
			n++
		}
	}
	return st, n, nil
}

func ingestWithStatus(ctx context.Context, kb *retrieval.KnowledgeBase, collection, path string, progress retrieval.ProgressFunc, set func(*retrieval.Source)) ([]retrieval.Source, retrieval.IngestStats, error) {
	srcs, err := retrieval.LoadPath(ctx, path)
	if err != nil {
		return nil, retrieval.IngestStats{}, err
	}
	for i := range srcs {
		set(&srcs[i])
	}
	st, err := kb.Ingest(ctx, collection, srcs, progress)
	return srcs, st, err
}
