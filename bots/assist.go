package bots

import (
	"context"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
)

// Suggestion is a reply an agent may send as is or edit: what the bot would have said.
type Suggestion struct {
	Text      string
	Citations []tandem.Citation
	// Source says where it comes from: "knowledge" (an answer from the knowledge base) or
	// "intent <name>" (the bot's response for an intent the message was understood as).
	Source string
}

// MaxSuggestions bounds SuggestReplies.
const MaxSuggestions = 3

// SuggestReplies proposes replies to a customer's message for the agent who has the
// conversation: the knowledge base's answer to it, then the bot's responses for the intents
// NLU found in it (its stored annotations), best first, rendered for the customer (their name
// and profile). It stores nothing and reports no unanswered question: it is advice for a
// human, not a turn. An unknown bot has no suggestions.
func (e *Engine) SuggestReplies(ctx context.Context, botID string, cust *tandem.Customer, msg *tandem.Message) ([]Suggestion, error) {
	bot, ok := e.bots.Get(botID)
	if !ok || msg == nil || strings.TrimSpace(msg.Text) == "" {
		return nil, nil
	}
	def := bot.Def
	var out []Suggestion
	if e.kb != nil {
		lang := def.Language
		if msg.Annotations != nil && msg.Annotations.Language != "" {
			lang = msg.Annotations.Language
		}
		ans, err := e.kb.Answer(ctx, Question{Text: msg.Text, Collections: def.Knowledge.Collections, Language: lang,
			LLM: bot.LLM, Persona: def.Persona})
		if err != nil {
			return nil, fmt.Errorf("suggest replies: %w", err)
		}
		if ans != nil && ans.Found && strings.TrimSpace(ans.Text) != "" &&
			(def.Knowledge.MinConfidence == 0 || ans.Confidence >= def.Knowledge.MinConfidence) {
			out = append(out, Suggestion{Text: ans.Text, Citations: ans.Citations, Source: "knowledge"})
		}
	}
	if msg.Annotations == nil {
		return out, nil
	}
	data := flows.Data{Slots: map[string]string{}, Profile: map[string]string{},
		Bot: flows.Bot{ID: def.ID, Name: def.Name}, BaseURL: e.baseURL}
	if cust != nil {
		data.Customer = flows.Customer{ID: cust.ID, Name: cust.DisplayName}
		if cust.Profile != nil {
			data.Profile = cust.Profile
		}
	}
	intents := msg.Annotations.Intents
	if len(intents) == 0 {
		intents = []tandem.IntentScore{msg.Annotations.Intent}
	}
	for _, is := range intents {
		if len(out) == MaxSuggestions {
			break
		}
		in, ok := def.Intent(is.Name)
		if !ok || in.Response == "" {
			continue
		}
		r, ok := def.Responses[in.Response]
		if !ok || len(r.Variations) == 0 {
			continue
		}
		text, err := r.Variations[0].Text.Render(&data)
		if err != nil || strings.TrimSpace(text) == "" {
			continue // a template needing the flow's slots says nothing useful here
		}
		out = append(out, Suggestion{Text: text, Source: "intent " + in.Name})
	}
	return out, nil
}
