package bots

import (
	"context"

	"github.com/tandemhq/tandem/nlu"
)

// OfflineNLU trains the offline NLU (package nlu) from the bot's intents, entity patterns
// and lists: the default NLUBuilder.
func OfflineNLU(ctx context.Context, def *Definition) (Analyzer, error) {
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
	return nlu.Train(ctx, ex, cfg)
}
