package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/storage"
)

// kbCommands are the `tandem kb` subcommands.
func kbCommands() map[string]command {
	return map[string]command{
		"ingest":  {"ingest files or folders (Markdown, HTML, text, PDF, FAQ CSV/JSONL)", runKBIngest},
		"list":    {"list the documents of a collection", runKBList},
		"show":    {"show a document and its chunks", runKBShow},
		"search":  {"hybrid search of the knowledge base", runKBSearch},
		"answer":  {"answer a question as the bot would (extractive)", runKBAnswer},
		"delete":  {"delete a document", runKBDelete},
		"publish": {"publish a document (or --draft to unpublish)", runKBPublish},
		"reembed": {"recompute a collection's vectors with the configured embedder", runKBReembed},
		"submit":  {"submit draft documents for review", runKBReview(review.Submit)},
		"approve": {"approve documents in review (publishes them)", runKBReview(review.Approve)},
		"reject":  {"request changes to documents in review (--comment required)", runKBReview(review.RequestChanges)},
	}
}

func runKB(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem kb", kbCommands(), args)
}

// kbFlags are the flags every kb subcommand shares.
type kbFlags struct {
	store      *storeFlags
	collection *string
	format     *string
	glossary   *string
}

func addKBFlags(env Env, fs *flag.FlagSet) kbFlags {
	return kbFlags{
		store:      addStoreFlags(env, fs),
		collection: fs.String("collection", "default", "knowledge collection"),
		format:     fs.String("format", "text", "output format: text or json"),
		glossary:   fs.String("glossary", "", "glossary of synonyms/translations applied to queries"),
	}
}

// open parses the flags and opens the store and knowledge base; close them with the
// returned function.
func (kf kbFlags) open(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (*retrieval.KnowledgeBase, storage.Store, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	if *kf.format != "text" && *kf.format != "json" {
		return nil, nil, fmt.Errorf("%w: --format must be text or json", errUsage)
	}
	var opts []retrieval.Option
	if *kf.glossary != "" {
		g, err := retrieval.LoadGlossary(*kf.glossary)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, retrieval.WithGlossary(g))
	}
	store, err := openStore(ctx, *kf.store)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, retrieval.WithLogger(newLogger(env, "warn")))
	return retrieval.New(store, nil, opts...), store, nil
}

// docID accepts a local ID ("shipping") or a stored one ("faq/shipping").
func (kf kbFlags) docID(id string) string {
	if strings.HasPrefix(id, *kf.collection+"/") {
		return id
	}
	return retrieval.DocumentID(*kf.collection, id)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progressFor returns a progress callback drawing a bar on a terminal, or nil.
func progressFor(env Env, what string) (retrieval.ProgressFunc, func()) {
	f, ok := env.Stderr.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
					progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set(done)
		}, func() {
			if bar != nil {
				_ = bar.Finish()
			}
		}
}

func runKBList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb list")
	kf := addKBFlags(env, fs)
	status := fs.String("status", "", "only documents with this status (draft or published)")
	tag := fs.String("tag", "", "only documents with this tag")
	kb, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	docs, err := kb.ListDocuments(ctx, storage.DocumentFilter{Collection: *kf.collection, Status: tandem.DocumentStatus(*status), Tag: *tag})
	if err != nil {
		return err
	}
	if *kf.format == "json" {
		for i := range docs {
			docs[i].Body = ""
		}
		return writeJSON(env.Stdout, docs)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tVERSION\tTITLE\tTAGS")
	for _, d := range docs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", retrieval.LocalID(d.Collection, d.ID), d.Status, d.Version, d.Title, strings.Join(d.Tags, ","))
	}
	return tw.Flush()
}

func runKBShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb show")
	kf := addKBFlags(env, fs)
	_, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: tandem kb show needs one document id", errUsage)
	}
	d, err := store.FindDocumentByID(ctx, kf.docID(fs.Arg(0)))
	if err != nil {
		return err
	}
	chunks, err := store.ListChunks(ctx, d.ID)
	if err != nil {
		return err
	}
	if *kf.format == "json" {
		for i := range chunks {
			chunks[i].Embedding = nil
		}
		return writeJSON(env.Stdout, map[string]any{"document": d, "chunks": chunks})
	}
	fmt.Fprintf(env.Stdout, "id:       %s\ntitle:    %s\nstatus:   %s\nversion:  %d\nsource:   %s\nurl:      %s\ntags:     %s\nlanguage: %s\nhash:     %s\nupdated:  %s\n",
		d.ID, d.Title, d.Status, d.Version, d.Source, d.URL, strings.Join(d.Tags, ", "), d.Language, d.ContentHash, d.UpdatedAt.Format(time.RFC3339))
	if err := showReview(ctx, env, store, d.ID); err != nil {
		return err
	}
	for _, c := range chunks {
		fmt.Fprintf(env.Stdout, "\n--- chunk %d %s\n%s\n", c.Ordinal, c.Heading, c.Text)
	}
	return nil
}

func runKBSearch(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb search")
	kf := addKBFlags(env, fs)
	limit := fs.Int("limit", 5, "number of passages")
	all := fs.Bool("all", false, "search every collection and include drafts")
	kb, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	q := strings.Join(fs.Args(), " ")
	if q == "" {
		return fmt.Errorf("%w: tandem kb search needs a query", errUsage)
	}
	f := storage.SearchFilter{Limit: *limit}
	if !*all {
		f.Collections = []string{*kf.collection}
	}
	ps, err := kb.Search(ctx, q, f)
	if err != nil {
		return err
	}
	if *kf.format == "json" {
		return writeJSON(env.Stdout, ps)
	}
	for i, p := range ps {
		fmt.Fprintf(env.Stdout, "%d. %s  [%s]  score %.4f  similarity %.3f\n   %s\n", i+1, p.Title, p.DocumentID, p.Score, p.Similarity, clipLine(p.Text, 160))
	}
	return nil
}

func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func runKBAnswer(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb answer")
	kf := addKBFlags(env, fs)
	kb, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	q := strings.Join(fs.Args(), " ")
	if q == "" {
		return fmt.Errorf("%w: tandem kb answer needs a question", errUsage)
	}
	a, err := kb.Answer(ctx, q, retrieval.AnswerOptions{Collections: []string{*kf.collection}})
	if err != nil {
		return err
	}
	if *kf.format == "json" {
		return writeJSON(env.Stdout, a)
	}
	if !a.Found {
		fmt.Fprintf(env.Stdout, "no answer (%s, confidence %.2f)\n", a.Reason, a.Confidence)
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s\n\n", a.Text)
	for _, c := range a.Citations {
		fmt.Fprintf(env.Stdout, "source: %s (%s) %s\n", c.Title, c.DocID, c.URL)
	}
	fmt.Fprintf(env.Stdout, "confidence %.2f (%s)\n", a.Confidence, a.Reason)
	return nil
}

func runKBDelete(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb delete")
	kf := addKBFlags(env, fs)
	_, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tandem kb delete needs document ids", errUsage)
	}
	for _, id := range fs.Args() {
		if err := store.DeleteDocument(ctx, kf.docID(id)); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted %s\n", kf.docID(id))
	}
	return nil
}

func runKBPublish(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb publish")
	kf := addKBFlags(env, fs)
	draft := fs.Bool("draft", false, "set the documents back to draft")
	rf := addReviewFlags(env, fs)
	_, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	requireReview, err := rf.rule()
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tandem kb publish needs document ids", errUsage)
	}
	status := tandem.DocumentPublished
	if *draft {
		status = tandem.DocumentDraft
	}
	for _, id := range fs.Args() {
		if !*draft {
			if err := checkPublish(ctx, store, kf.docID(id), requireReview); err != nil {
				return err
			}
		}
		if err := store.SetDocumentStatus(ctx, kf.docID(id), status); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s is %s\n", kf.docID(id), status)
	}
	return nil
}

func runKBReembed(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem kb reembed")
	kf := addKBFlags(env, fs)
	kb, store, err := kf.open(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer store.Close()
	progress, finish := progressFor(env, "reembed")
	n, err := kb.Reembed(ctx, *kf.collection, progress)
	finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d chunks re-embedded with %s\n", *kf.collection, n, kb.EmbedderName())
	return nil
}
