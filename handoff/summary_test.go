package handoff_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	order := tandem.Entity{Type: "order_number", Value: "A-1042", Text: "A-1042"}
	cust := func(conv string, min int, ch tandem.Channel, text, intent string, score float64, ents ...tandem.Entity) tandem.Message {
		return tandem.Message{ConversationID: conv, Role: tandem.RoleCustomer, Channel: ch, Text: text, CreatedAt: at.Add(time.Duration(min) * time.Minute),
			Annotations: &tandem.Annotations{Intent: tandem.IntentScore{Name: intent, Confidence: 0.9}, Entities: ents,
				Sentiment: tandem.Sentiment{Score: score}}}
	}
	bot := func(conv string, min int, kind tandem.DecisionKind) tandem.Message {
		return tandem.Message{ConversationID: conv, Role: tandem.RoleBot, Text: "…", CreatedAt: at.Add(time.Duration(min) * time.Minute),
			Decision: &tandem.Decision{Kind: kind}}
	}
	tests := []struct {
		name  string
		msgs  []tandem.Message
		check func(t *testing.T, s handoff.CaseSummary)
	}{
		{name: "OK/Handoff", msgs: []tandem.Message{
			cust("other", 0, tandem.ChannelSMS, "an older conversation", "greeting", 0.5),
			cust("c1", 1, tandem.ChannelWebChat, "Where is my order A-1042?", "order_status", -0.1, order),
			bot("c1", 1, tandem.DecisionFlow),
			cust("c1", 2, tandem.ChannelWebChat, "it says delivered but nothing came", "oos", -0.6),
			bot("c1", 2, tandem.DecisionFallback),
			cust("c1", 5, tandem.ChannelSMS, "A-1042 still missing, this is ridiculous", "order_status", -0.9, order),
			bot("c1", 5, tandem.DecisionHandoff),
		}, check: func(t *testing.T, s handoff.CaseSummary) {
			if s.Opening != "Where is my order A-1042?" || s.Latest != "A-1042 still missing, this is ridiculous" {
				t.Errorf("opening %q latest %q", s.Opening, s.Latest)
			}
			if !slices.Equal(s.Intents, []string{"order_status"}) {
				t.Errorf("intents = %v, want order_status once, out-of-scope left out", s.Intents)
			}
			if len(s.Facts) != 1 || s.Facts[0] != order {
				t.Errorf("facts = %v, want the order number once", s.Facts)
			}
			if s.Tried[tandem.DecisionFallback] != 1 || s.Tried[tandem.DecisionFlow] != 1 {
				t.Errorf("tried = %v", s.Tried)
			}
			if s.Mood != handoff.MoodUpset || s.Sentiment > -0.5 {
				t.Errorf("mood %s (%.2f), want upset: the newest messages weigh most", s.Mood, s.Sentiment)
			}
			if s.CustomerMessages != 3 || !slices.Equal(s.Channels, []tandem.Channel{tandem.ChannelWebChat, tandem.ChannelSMS}) || s.Span != 4*time.Minute {
				t.Errorf("messages %d channels %v span %s; the other conversation must not count", s.CustomerMessages, s.Channels, s.Span)
			}
			lines := strings.Join(s.Lines(), "\n")
			for _, want := range []string{`Came for: "Where is my order A-1042?"`, "Understood: order_status", "Given: order_number A-1042",
				"not understood ×1", "Mood: upset"} {
				if !strings.Contains(lines, want) {
					t.Errorf("lines lack %q:\n%s", want, lines)
				}
			}
		}},
		{name: "OK/Empty", check: func(t *testing.T, s handoff.CaseSummary) {
			if s.Mood != handoff.MoodNeutral || len(s.Lines()) != 0 {
				t.Errorf("empty summary = %+v, lines %v", s, s.Lines())
			}
		}},
		{name: "OK/NoAnnotationsLongText", msgs: []tandem.Message{
			{ConversationID: "c1", Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: strings.Repeat("é", 200), CreatedAt: at},
		}, check: func(t *testing.T, s handoff.CaseSummary) {
			line := s.Lines()[0]
			if !strings.HasSuffix(line, `…"`) || len(line) > 200 || !strings.Contains(line, "é") {
				t.Errorf("a long opening is clipped on a rune boundary: %q", line)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, handoff.Summarize("c1", tt.msgs))
		})
	}
}
