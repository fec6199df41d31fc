package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/retrieval/review"
)

// cliReviewer is the CLI as a reviewer: its operator holds the database, so, like an admin,
// it may review its own submissions.
var cliReviewer = review.Actor{Name: "cli", Admin: true}

// runKBReview runs `tandem kb submit|approve|reject` (actor "cli").
func runKBReview(a review.Action) func(ctx context.Context, env Env, args []string) error {
	return func(ctx context.Context, env Env, args []string) error {
		fs := newFlagSet(env, "tandem kb "+map[review.Action]string{review.Submit: "submit", review.Approve: "approve", review.RequestChanges: "reject"}[a])
		kf := addKBFlags(env, fs)
		comment := fs.String("comment", "", "what should change (reject)")
		kb, store, err := kf.open(ctx, env, fs, args)
		if err != nil {
			return err
		}
		defer store.Close()
		if fs.NArg() == 0 {
			return fmt.Errorf("%w: %s needs document ids", errUsage, fs.Name())
		}
		w := &review.Workflow{Store: store, KB: kb}
		for _, id := range fs.Args() {
			id = kf.docID(id)
			if _, err := w.Take(ctx, id, 0, a, cliReviewer, *comment); err != nil {
				return err
			}
			if live, isNext := review.LiveID(id); isNext && a == review.Approve {
				id = live
			}
			d, err := store.FindDocumentByID(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is %s (v%d)\n", d.ID, d.Status, d.Version)
		}
		return nil
	}
}

// reviewFlags say where review is required, as the server would: --require-review is the
// server's knowledge.require_review (env TANDEM_KNOWLEDGE_REQUIRE_REVIEW), the default of
// bots that do not set their own; --bots (env TANDEM_BOTS_DIR) are the bot folders whose
// knowledge.require_review applies to their collections.
type reviewFlags struct {
	requireReview *bool
	botsDir       *string
}

func addReviewFlags(env Env, fs *flag.FlagSet) reviewFlags {
	def, _ := strconv.ParseBool(envDefault(env, "TANDEM_KNOWLEDGE_REQUIRE_REVIEW", "false"))
	return reviewFlags{
		requireReview: fs.Bool("require-review", def, "review is required where bots do not say otherwise (env TANDEM_KNOWLEDGE_REQUIRE_REVIEW)"),
		botsDir:       fs.String("bots", envDefault(env, "TANDEM_BOTS_DIR", ""), "bot folders whose knowledge.require_review applies to their collections (env TANDEM_BOTS_DIR)"),
	}
}

// rule returns where review is required; call it after parsing the flags.
func (rf reviewFlags) rule() (review.Rule, error) {
	if *rf.botsDir == "" {
		return review.Always(*rf.requireReview), nil
	}
	defs, err := bots.LoadDefinitions(*rf.botsDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return bots.ReviewRule(defs, *rf.requireReview), nil
}

// checkPublish refuses to publish a document directly when its collection requires review.
func checkPublish(ctx context.Context, store review.Store, id string, requireReview review.Rule) error {
	d, err := store.FindDocumentByID(ctx, id)
	if err != nil {
		return err
	}
	w := &review.Workflow{RequireReview: requireReview}
	if err := w.CheckPublish(*d); err != nil {
		return fmt.Errorf("%w (tandem kb submit, then another editor approves)", err)
	}
	return nil
}

// showReview prints a document's latest review round, if any (`tandem kb show`).
func showReview(ctx context.Context, env Env, store review.Store, id string) error {
	r, err := (&review.Workflow{Store: store}).LastReview(ctx, id)
	if err != nil || r == nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "submitted: by %s at %s\n", r.SubmittedBy, r.SubmittedAt.Format(time.RFC3339))
	if r.ReviewedBy != "" {
		fmt.Fprintf(env.Stdout, "reviewed: by %s at %s\n", r.ReviewedBy, r.ReviewedAt.Format(time.RFC3339))
	}
	if r.Comment != "" {
		fmt.Fprintf(env.Stdout, "comment:  %s\n", r.Comment)
	}
	return nil
}
