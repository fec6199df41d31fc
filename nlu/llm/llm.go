// Package llm asks a large language model (any langchaingo llms.Model, e.g. an OpenAI-compatible
// server through llms/openai with WithBaseURL) to decide between the offline classifier's top
// intents when the classifier is unsure.
package llm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tmc/langchaingo/llms"
)

// Classifier picks an intent among candidates with an LLM. It is safe for concurrent use if the
// underlying model is.
type Classifier struct {
	model    llms.Model
	examples map[string][]string
	maxEx    int
}

// Option configures a Classifier.
type Option func(*Classifier)

// WithExamples gives the model up to n example utterances per intent in the prompt.
func WithExamples(examples map[string][]string, n int) Option {
	return func(c *Classifier) { c.examples, c.maxEx = examples, n }
}

// New returns a Classifier over model.
func New(model llms.Model, opts ...Option) *Classifier {
	c := &Classifier{model: model, maxEx: 3}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Choose returns the candidate that best matches text, or tandem.IntentOutOfScope when the model
// says none does. An answer that names no candidate is an error, so callers keep their offline
// result.
func (c *Classifier) Choose(ctx context.Context, text string, candidates []string) (string, error) {
	if len(candidates) == 0 {
		return tandem.IntentOutOfScope, nil
	}
	var b strings.Builder
	b.WriteString("Classify the customer message into exactly one of the intents below. ")
	b.WriteString("Answer with the intent name only, or \"none\" if no intent fits.\n\nIntents:\n")
	for _, name := range candidates {
		fmt.Fprintf(&b, "- %s", name)
		if ex := c.examples[name]; len(ex) > 0 {
			b.WriteString(" (e.g. ")
			for i, e := range ex[:min(len(ex), c.maxEx)] {
				if i > 0 {
					b.WriteString("; ")
				}
				fmt.Fprintf(&b, "%q", e)
			}
			b.WriteString(")")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nMessage: %q\nIntent:", text)
	out, err := llms.GenerateFromSinglePrompt(ctx, c.model, b.String(), llms.WithTemperature(0), llms.WithMaxTokens(20))
	if err != nil {
		return "", fmt.Errorf("llm intent: %w", err)
	}
	ans := strings.ToLower(strings.Trim(strings.TrimSpace(out), "\"'`.* "))
	if ans == "none" || ans == tandem.IntentOutOfScope {
		return tandem.IntentOutOfScope, nil
	}
	for _, name := range candidates {
		if strings.ToLower(name) == ans {
			return name, nil
		}
	}
	// Models sometimes wrap the name in a sentence: accept a unique mention.
	var hits []string
	for _, name := range candidates {
		if strings.Contains(ans, strings.ToLower(name)) {
			hits = append(hits, name)
		}
	}
	if len(hits) == 1 {
		return hits[0], nil
	}
	return "", fmt.Errorf("llm intent: answer %q names no candidate of %s", out, strings.Join(slices.Clone(candidates), ", "))
}
