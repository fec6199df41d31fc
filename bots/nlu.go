package bots

import (
	"context"

	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem/nlu"
	"github.com/tandemhq/tandem/nlu/llm"
)

// fallbackExamples is how many examples per intent the LLM intent chooser is shown.
const fallbackExamples = 3

// OfflineNLU trains the offline NLU (package nlu) from the bot's intents, entity patterns
// and lists: the default NLUBuilder. With a model, the model decides between the top intents
// when the classifier is unsure (an LLM error keeps the classifier's answer).
func OfflineNLU(ctx context.Context, def *Definition, model llms.Model) (Analyzer, error) {
	var ex []nlu.Example
	for _, in := range def.Intents {
		for _, e := range in.Examples {
			ex = append(ex, nlu.Example{Text: e, Intent: in.Name})
		}
	}
	cfg := nlu.Config{Seed: def.NLU.Seed, Patterns: def.Patterns, Region: def.NLU.Region}
	for _, name := range sortedKeys(def.Lists) {
		cfg.Lists = append(cfg.Lists, nlu.EntityList{Name: name, Values: def.Lists[name]})
	}
	if model != nil {
		examples := make(map[string][]string, len(def.Intents))
		for _, in := range def.Intents {
			examples[in.Name] = in.Examples
		}
		cfg.Fallback = llm.New(model, llm.WithExamples(examples, fallbackExamples))
	}
	return nlu.Train(ctx, ex, cfg)
}
