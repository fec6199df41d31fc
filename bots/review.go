package bots

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
)

// RequiresReview reports whether the bot's knowledge must be reviewed before it is
// published: its knowledge.require_review, else serverDefault (the server's
// knowledge.require_review).
func (d *Definition) RequiresReview(serverDefault bool) bool {
	if d.Knowledge.RequireReview != nil {
		return *d.Knowledge.RequireReview
	}
	return serverDefault
}

// ReviewRule returns whether documents of a collection must be reviewed before they are
// published, given the bots defs: a collection belongs to the bots that answer from it
// (knowledge.collections, by default the bot's id). A collection several bots answer from
// requires review when any of them requires it, since a document there answers all their
// customers; a collection no bot names follows serverDefault.
func ReviewRule(defs []*Definition, serverDefault bool) func(collection string) bool {
	rules := map[string]bool{}
	for _, d := range defs {
		req := d.RequiresReview(serverDefault)
		for _, c := range d.Knowledge.Collections {
			rules[c] = rules[c] || req
		}
	}
	return func(collection string) bool {
		if req, ok := rules[collection]; ok {
			return req
		}
		return serverDefault
	}
}

// ReviewRule is ReviewRule over the bots registered when it is asked, so a bot reloaded
// with another knowledge.require_review applies at once.
func (r *Registry) ReviewRule(serverDefault bool) func(collection string) bool {
	return func(collection string) bool {
		bs := r.List()
		defs := make([]*Definition, len(bs))
		for i, b := range bs {
			defs[i] = b.Def
		}
		return ReviewRule(defs, serverDefault)(collection)
	}
}

// LoadDefinitions loads and validates every sub-folder of root that holds a bot.yaml,
// without compiling them (no NLU training, no ingestion): for tools that only read bot
// settings, such as `tandem kb`. Every problem is reported together.
func LoadDefinitions(root string) ([]*Definition, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("load bots: %w", err)
	}
	fsys := os.DirFS(root)
	var (
		defs []*Definition
		errs []error
	)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), "bot.yaml")); err != nil {
			continue
		}
		d, err := Load(fsys, e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		defs = append(defs, d)
	}
	return defs, errors.Join(errs...)
}
