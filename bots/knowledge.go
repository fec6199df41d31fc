package bots

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/tandemhq/tandem/retrieval"
)

// KnowledgeBase adapts a retrieval.KnowledgeBase to the engine (Answerer, WithKnowledge)
// and the registry (Ingester, RegistryConfig.Knowledge).
type KnowledgeBase struct {
	KB *retrieval.KnowledgeBase
}

// Answer asks the knowledge base.
func (k KnowledgeBase) Answer(ctx context.Context, q Question) (*KnowledgeAnswer, error) {
	a, err := k.KB.Answer(ctx, q.Text, retrieval.AnswerOptions{Collections: q.Collections, Language: q.Language,
		LLM: q.LLM, Persona: q.Persona})
	if err != nil {
		return nil, fmt.Errorf("knowledge answer: %w", err)
	}
	return &KnowledgeAnswer{Text: a.Text, Citations: a.Citations, Confidence: a.Confidence, Found: a.Found, Reason: a.Reason}, nil
}

// IngestKnowledge ingests a bot's knowledge folder into collection and applies the bot's
// glossary to the collection's queries.
func (k KnowledgeBase) IngestKnowledge(ctx context.Context, collection string, fsys fs.FS, glossary [][]string) error {
	var g *retrieval.Glossary
	if len(glossary) > 0 {
		var err error
		if g, err = retrieval.NewGlossary(glossary); err != nil {
			return fmt.Errorf("glossary of %s: %w", collection, err)
		}
	}
	if _, err := k.KB.IngestFS(ctx, collection, fsys, ".", nil); err != nil {
		return fmt.Errorf("ingest %s: %w", collection, err)
	}
	k.KB.SetGlossary(collection, g)
	return nil
}
