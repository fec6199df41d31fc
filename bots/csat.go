package bots

import (
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
)

// Defaults of CSATConfig.
const (
	DefaultCSATQuestion = "How did we do? Reply with a number from 1 (bad) to 5 (great)."
	DefaultCSATThanks   = "Thanks for your feedback!"
	DefaultCSATWindow   = 24 * time.Hour
)

// CSATConfig is the customer satisfaction survey a bot sends when an agent closes one of
// its tickets (handoff.Close), in bot.yaml under handoff.csat. The customer's next message
// is read as the answer when it is a rating (handoff.ParseRating) and arrives within Window;
// anything else is answered as usual and the survey is dropped.
type CSATConfig struct {
	// Enabled asks the survey; default true (see On).
	Enabled *bool `yaml:"enabled"`
	// Question is what the customer is asked; default DefaultCSATQuestion.
	Question string `yaml:"question"`
	// Thanks answers a rating; default DefaultCSATThanks.
	Thanks string `yaml:"thanks"`
	// Window is how long an answer is awaited; default DefaultCSATWindow (24h).
	Window time.Duration `yaml:"window"`
}

// On reports whether the bot asks the survey.
func (c CSATConfig) On() bool { return c.Enabled == nil || *c.Enabled }

// checkCSAT sets the survey's defaults and reports bad values.
func (l *loader) checkCSAT(file string, line func(keys ...string) int, c *CSATConfig) {
	if c.Question == "" {
		c.Question = DefaultCSATQuestion
	}
	if c.Thanks == "" {
		c.Thanks = DefaultCSATThanks
	}
	if c.Window == 0 {
		c.Window = DefaultCSATWindow
	}
	if c.Window < 0 {
		l.errorf(file, line("handoff", "csat", "window"), "handoff.csat.window", "must be positive, got %s", c.Window)
	}
	for _, f := range []struct{ key, text string }{{"question", c.Question}, {"thanks", c.Thanks}} {
		if len(f.text) > handoff.MaxReplyBytes {
			l.errorf(file, line("handoff", "csat", f.key), "handoff.csat."+f.key, "is %d bytes; the limit is %d", len(f.text), handoff.MaxReplyBytes)
		}
	}
}

// Survey returns the CSAT question the bot botID asks when an agent closes one of its
// tickets, "" when it asks none or is unknown: a handoff.Surveys for the agents' desks.
func (r *Registry) Survey(botID string) string {
	b, ok := r.Get(botID)
	if !ok || !b.Def.Handoff.CSAT.On() {
		return ""
	}
	return b.Def.Handoff.CSAT.Question
}

// survey reads text as the answer to the survey pending in the conversation, if any (see
// handoff.Close): a rating (handoff.ParseRating) within the bot's window is thanked,
// stored with the turn and closes the conversation, and survey reports true; otherwise the
// survey is dropped (kept when the message released replies held for a closed channel
// window, the question among them) and the turn goes on as usual. Without a pending survey it costs
// nothing: the text is parsed only when one waits.
func (e *Engine) survey(t *turn, text string) bool {
	p := t.st.CSAT
	if p == nil {
		return false
	}
	t.st.CSAT = nil
	cfg := t.def.Handoff.CSAT
	score, _ := handoff.ParseRating(text)
	switch {
	case score == 0 && t.released > 0:
		// The question was held for a closed channel window and goes out only now, so the
		// customer's next message may be the answer.
		t.st.CSAT = p
		t.notes = append(t.notes, fmt.Sprintf("survey of ticket %s kept: its question was held for the closed %s window", p.TicketID, t.channel))
		return false
	case score == 0:
		t.notes = append(t.notes, fmt.Sprintf("survey of ticket %s dropped: the message is not a rating", p.TicketID))
		return false
	case e.now().Sub(p.AskedAt) > cfg.Window:
		t.notes = append(t.notes, fmt.Sprintf("survey of ticket %s expired after %s", p.TicketID, cfg.Window))
		return false
	}
	now := e.now()
	t.csat = &tandem.CSATResponse{TicketID: p.TicketID, ConversationID: t.conv.ID, BotID: t.def.ID, Queue: p.Queue,
		AgentID: p.AgentID, Score: score, At: now}
	t.audit = append(t.audit, &tandem.AuditEntry{Actor: "customer:" + t.cust.ID, Action: tandem.AuditCSATResponse, Subject: p.TicketID, At: now,
		Detail: map[string]string{"score": fmt.Sprint(score), "bot": t.def.ID, "queue": p.Queue, "agent_id": p.AgentID, "conversation_id": t.conv.ID}})
	t.replies = append(t.replies, tandem.Reply{Text: cfg.Thanks})
	t.st = convState{}
	closed := tandem.StatusClosed
	t.status = &closed
	t.decide(tandem.DecisionSurvey, fmt.Sprintf("customer rated ticket %s %d/5", p.TicketID, score))
	return true
}

// csatScore is the rating the turn stored, 0 when none.
func (t *turn) csatScore() int {
	if t.csat == nil {
		return 0
	}
	return t.csat.Score
}
