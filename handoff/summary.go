package handoff

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/nlu/sentiment"

	"github.com/tandemhq/tandem"
)

// CaseSummary is what an agent needs at a glance when picking up a ticket: what the
// customer came for, what the bot understood and tried, the facts already given, and how
// the customer feels. It is built offline from the conversation's stored messages and their
// NLU annotations, so it costs no model call and shows nothing the transcript does not.
type CaseSummary struct {
	// Opening is the customer's first message in the conversation: what they came for.
	Opening string
	// Latest is the customer's newest message, when it differs from Opening.
	Latest string
	// Intents are the distinct intents the bot understood, in the order first seen
	// (out-of-scope messages excluded).
	Intents []string
	// Facts are the distinct entities the customer gave (order numbers, dates, amounts,
	// emails, phones), in the order first given, so the agent does not ask again.
	Facts []tandem.Entity
	// Tried counts the bot's replies by decision kind: answers from the knowledge base,
	// intents, flows, fallbacks (a fallback is a turn the bot did not understand).
	Tried map[tandem.DecisionKind]int
	// Sentiment is the trend of the customer's messages in [-1, 1] (sentiment.Trend: the
	// newest weigh most), and Mood says it in words.
	Sentiment float64
	Mood      string
	// CustomerMessages counts the customer's messages; Channels lists the channels they
	// wrote from, first used first; Span is from the first to the last message.
	CustomerMessages int
	Channels         []tandem.Channel
	Span             time.Duration
}

// Moods of CaseSummary.Mood.
const (
	MoodUpset   = "upset"
	MoodUneasy  = "uneasy"
	MoodNeutral = "neutral"
	MoodContent = "content"
)

// Summarize builds the case summary of one conversation from its messages, oldest first;
// messages of other conversations are ignored.
func Summarize(conversationID string, msgs []tandem.Message) CaseSummary {
	s := CaseSummary{Tried: map[tandem.DecisionKind]int{}}
	seenIntent := map[string]bool{}
	seenFact := map[string]bool{}
	var scores []float64
	var first, last time.Time
	for _, m := range msgs {
		if m.ConversationID != conversationID {
			continue
		}
		if first.IsZero() {
			first = m.CreatedAt
		}
		last = m.CreatedAt
		switch m.Role {
		case tandem.RoleCustomer:
			s.CustomerMessages++
			if s.Opening == "" {
				s.Opening = m.Text
			} else {
				s.Latest = m.Text
			}
			if !slices.Contains(s.Channels, m.Channel) {
				s.Channels = append(s.Channels, m.Channel)
			}
			a := m.Annotations
			if a == nil {
				continue
			}
			if in := a.Intent.Name; in != "" && in != tandem.IntentOutOfScope && !seenIntent[in] {
				seenIntent[in] = true
				s.Intents = append(s.Intents, in)
			}
			for _, e := range a.Entities {
				if k := e.Type + "\x00" + e.Value; !seenFact[k] {
					seenFact[k] = true
					s.Facts = append(s.Facts, e)
				}
			}
			scores = append(scores, a.Sentiment.Score)
		case tandem.RoleBot:
			if m.Decision != nil {
				s.Tried[m.Decision.Kind]++
			}
		}
	}
	s.Span = last.Sub(first)
	s.Sentiment = sentiment.Trend(scores)
	s.Mood = mood(s.Sentiment)
	return s
}

func mood(score float64) string {
	switch {
	case score <= -0.5:
		return MoodUpset
	case score <= -0.15:
		return MoodUneasy
	case score >= 0.3:
		return MoodContent
	}
	return MoodNeutral
}

// Lines says the summary as short sentences for a desk (the inbox, a Slack card's thread).
func (s CaseSummary) Lines() []string {
	var out []string
	if s.Opening != "" {
		out = append(out, fmt.Sprintf("Came for: %q", clip(s.Opening, 160)))
	}
	if s.Latest != "" {
		out = append(out, fmt.Sprintf("Latest: %q", clip(s.Latest, 160)))
	}
	if len(s.Intents) > 0 {
		out = append(out, "Understood: "+strings.Join(s.Intents, ", "))
	}
	if len(s.Facts) > 0 {
		facts := make([]string, len(s.Facts))
		for i, f := range s.Facts {
			facts[i] = f.Type + " " + f.Value
		}
		out = append(out, "Given: "+strings.Join(facts, ", "))
	}
	var tried []string
	for _, k := range []tandem.DecisionKind{tandem.DecisionKnowledge, tandem.DecisionIntent, tandem.DecisionFlow, tandem.DecisionFallback} {
		if n := s.Tried[k]; n > 0 {
			tried = append(tried, fmt.Sprintf("%s ×%d", triedName[k], n))
		}
	}
	if len(tried) > 0 {
		out = append(out, "Bot tried: "+strings.Join(tried, ", "))
	}
	if s.CustomerMessages > 0 {
		plural := "s"
		if s.CustomerMessages == 1 {
			plural = ""
		}
		out = append(out, fmt.Sprintf("Mood: %s (%+.2f) over %d customer message%s", s.Mood, s.Sentiment, s.CustomerMessages, plural))
	}
	return out
}

var triedName = map[tandem.DecisionKind]string{
	tandem.DecisionKnowledge: "knowledge answers",
	tandem.DecisionIntent:    "intent replies",
	tandem.DecisionFlow:      "flow steps",
	tandem.DecisionFallback:  "not understood",
}

// clip shortens text to at most n bytes on a rune boundary, marking the cut.
func clip(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}
