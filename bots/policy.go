package bots

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/nlu/pii"
)

// Default texts used when a bot does not define the reserved responses.
const (
	defaultClarify    = "Sorry, I didn't quite get that. Did you mean one of these?"
	defaultOfferHuman = "I'm not sure I can help with that. Would you like to talk to a person?"
	defaultHandoff    = "I'm connecting you with a person from our team. They'll reply here shortly."
	defaultCancelled  = "OK, I've stopped that. What else can I help you with?"
	defaultFlowFailed = "Sorry, I couldn't finish that. Would you like to talk to a person?"
	defaultDeclined   = "No problem. What else can I help you with?"
	talkToPerson      = "Talk to a person"
)

// policy decides the turn, in order: relay to a human, handoff triggers, the active flow,
// the intent, the knowledge base, the fallback.
func (e *Engine) policy(ctx context.Context, t *turn) error {
	t.st.Turns++
	t.st.Sentiment = append(t.st.Sentiment, t.ann.Sentiment.Score)
	if n := len(t.st.Sentiment); n > sentimentWindow {
		t.st.Sentiment = append(t.st.Sentiment[:0], t.st.Sentiment[n-sentimentWindow:]...)
	}
	if t.conv.Status == tandem.StatusHandoff {
		t.decide(tandem.DecisionRelay, "a human agent has the conversation; message relayed")
		t.escalate = escalation(t)
		return nil
	}
	if t.st.Flow.Active() && e.now().Sub(t.st.Flow.UpdatedAt) > t.def.FlowTimeout {
		t.notes = append(t.notes, fmt.Sprintf("flow %s expired after %s without a reply", t.st.Flow.Flow, t.def.FlowTimeout))
		t.st.Flow = flows.State{}
		t.say(ResponseFlowExpired, "")
	}
	if reason, prio := e.handoffTrigger(t); reason != "" {
		return e.handOff(ctx, t, reason, prio, false)
	}
	if t.st.OfferedHuman {
		t.st.OfferedHuman = false
		if v, ok := t.runner.Accept(&yesnoStep, t.text, nil); ok {
			if v == "yes" {
				return e.handOff(ctx, t, "customer accepted the offer of a human", 0, false)
			}
			t.say("", defaultDeclined)
			t.decide(tandem.DecisionFallback, "customer declined the offer of a human")
			t.st.Failed = 0
			return nil
		}
	}
	if t.st.Flow.Active() {
		handled, err := e.continueFlow(ctx, t)
		if handled || err != nil {
			return err
		}
	}
	if in := t.intent(); in != nil {
		return e.runIntent(ctx, t, in)
	}
	ok, err := e.answerKnowledge(ctx, t, "no confident intent")
	if ok || err != nil {
		return err
	}
	return e.fallback(ctx, t)
}

// intent returns the message's intent when it is confident and the bot defines it.
func (t *turn) intent() *Intent {
	name := t.ann.Intent.Name
	if name == "" || name == tandem.IntentOutOfScope {
		return nil
	}
	if th := t.def.NLU.IntentThreshold; th > 0 && t.ann.Intent.Confidence < th {
		return nil
	}
	in, ok := t.def.Intent(name)
	if !ok {
		return nil
	}
	return in
}

func (t *turn) intentNote() string {
	return fmt.Sprintf("intent %s (%.2f)", t.ann.Intent.Name, t.ann.Intent.Confidence)
}

// handoffTrigger returns why the conversation must go to a human now, if it must.
func (e *Engine) handoffTrigger(t *turn) (string, int) {
	h := t.def.Handoff
	if h.VIPProfileField != "" && !t.st.VIPHandled {
		if v := t.cust.Profile[h.VIPProfileField]; v != "" && slices.Contains(h.VIPValues, v) {
			t.st.VIPHandled = true
			return fmt.Sprintf("VIP customer (%s=%s)", h.VIPProfileField, v), 1
		}
	}
	if in := t.intent(); in != nil && in.Handoff && h.OnRequest {
		return "customer asked for a human: " + t.intentNote(), 0
	}
	if h.NegativeSentimentTrend < 0 && len(t.st.Sentiment) >= 2 {
		if tr := trend(t.st.Sentiment); tr <= h.NegativeSentimentTrend {
			return fmt.Sprintf("negative sentiment trend %.2f over %d messages (threshold %.2f)", tr, len(t.st.Sentiment), h.NegativeSentimentTrend), 1
		}
	}
	return "", 0
}

// handOff opens a ticket and gives the conversation to a human. quiet skips the
// handoff_started reply (a flow step already said something).
func (e *Engine) handOff(ctx context.Context, t *turn, reason string, priority int, quiet bool) error {
	ticket, err := handoff.Open(ctx, e.store, t.conv, handoff.Request{Queue: t.def.Handoff.Queue, Reason: reason, Priority: priority,
		Language: t.ann.Language})
	if err != nil {
		return err
	}
	t.st.Flow = flows.State{}
	t.st.Sentiment = nil
	st := tandem.StatusHandoff
	t.status = &st
	if !quiet {
		t.say(ResponseHandoffStarted, defaultHandoff)
	}
	t.handoff = &tandem.HandoffInfo{TicketID: ticket.ID, Queue: ticket.Queue, Reason: reason}
	t.decide(tandem.DecisionHandoff, reason)
	t.st.Failed = 0
	return nil
}

var yesnoStep = flows.Step{Type: "yesno"}

var cancelWords = map[string]bool{"cancel": true, "stop": true, "quit": true, "never mind": true,
	"nevermind": true, "exit": true, "cancel that": true, "forget it": true, "stop that": true}

func (t *turn) isCancel() bool {
	w := strings.ToLower(strings.Trim(t.text, ".!? "))
	return cancelWords[w] || (t.ann.Intent.Name == "cancel" && t.intent() != nil)
}

// continueFlow feeds the message to the active flow. It reports false when the flow no
// longer exists and the message should be handled as if no flow were active.
func (e *Engine) continueFlow(ctx context.Context, t *turn) (bool, error) {
	f, ok := t.def.Flows[t.st.Flow.Flow]
	if !ok {
		t.notes = append(t.notes, fmt.Sprintf("flow %s no longer exists", t.st.Flow.Flow))
		t.st.Flow = flows.State{}
		return false, nil
	}
	if t.isCancel() {
		name := t.st.Flow.Flow
		t.st.Flow = flows.State{}
		t.say(ResponseFlowCancelled, defaultCancelled)
		t.decide(tandem.DecisionFlow, "customer cancelled flow "+name)
		t.decision.Flow = name
		return true, nil
	}
	step, ok := flows.Current(f, t.st.Flow)
	if ok && step.Ask != "" {
		_, valid := t.runner.Accept(step, t.text, t.ann.Entities)
		// Free-text slots accept anything, so a confident question is treated as one.
		if !valid || (step.Type == "text" && looksLikeQuestion(t.text) && t.intent() != nil) {
			if handled, err := e.interrupt(ctx, t, f); handled || err != nil {
				return true, err
			}
		}
	}
	st, out := t.runner.Resume(ctx, f, t.st.Flow, &t.data, t.text, t.ann.Entities)
	return true, e.applyFlow(ctx, t, f, st, out, tandem.DecisionFlow, "")
}

// interrupt answers a question asked in the middle of a flow, then repeats the flow's
// question. A confident intent that starts another flow replaces the current one.
func (e *Engine) interrupt(ctx context.Context, t *turn, f *flows.Flow) (bool, error) {
	in := t.intent()
	if in != nil && in.Flow != f.Name && !in.Handoff {
		if in.Flow != "" {
			t.notes = append(t.notes, fmt.Sprintf("left flow %s for flow %s", f.Name, in.Flow))
			t.st.Flow = flows.State{}
			return true, e.runIntent(ctx, t, in)
		}
		if in.Response != "" {
			t.say(in.Response, "")
			e.resumePrompt(t, f)
			t.decide(tandem.DecisionIntent, fmt.Sprintf("%s answered mid-flow; flow %s resumes at step %s", t.intentNote(), f.Name, t.st.Flow.Step))
			t.decision.Intent, t.decision.Flow, t.decision.Step = in.Name, f.Name, t.st.Flow.Step
			return true, nil
		}
	}
	if in == nil && !looksLikeQuestion(t.text) {
		return false, nil
	}
	ans, err := e.ask(ctx, t)
	if err != nil || ans == nil {
		return false, err
	}
	t.replies = append(t.replies, tandem.Reply{Text: ans.Text, Citations: ans.Citations})
	e.resumePrompt(t, f)
	t.decide(tandem.DecisionKnowledge, fmt.Sprintf("question answered mid-flow from knowledge (confidence %.2f, %d citations); flow %s resumes at step %s",
		ans.Confidence, len(ans.Citations), f.Name, t.st.Flow.Step))
	t.decision.Flow, t.decision.Step = f.Name, t.st.Flow.Step
	t.decision.Intent = t.ann.Intent.Name
	return true, nil
}

func (e *Engine) resumePrompt(t *turn, f *flows.Flow) {
	if r, ok := t.runner.Prompt(f, t.st.Flow, &t.data); ok {
		t.replies = append(t.replies, r)
	}
	t.st.Flow.UpdatedAt = e.now()
}

func looksLikeQuestion(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasSuffix(s, "?") || strings.HasSuffix(s, "？") {
		return true
	}
	first, _, _ := strings.Cut(s, " ")
	switch first {
	case "how", "what", "when", "where", "why", "who", "which", "can", "could", "do", "does", "is", "are", "will", "should":
		return true
	}
	return false
}

// applyFlow records what a flow run produced. kind is the decision kind when the flow
// continues (intent for the turn that started it, flow afterwards).
func (e *Engine) applyFlow(ctx context.Context, t *turn, f *flows.Flow, st flows.State, out flows.Output, kind tandem.DecisionKind, prefix string) error {
	t.replies = append(t.replies, out.Replies...)
	for k, v := range out.Profile {
		if t.profile == nil {
			t.profile = map[string]string{}
		}
		t.profile[k] = v
	}
	t.st.Flow = st
	switch out.Status {
	case flows.Waiting:
		t.decide(kind, fmt.Sprintf("%sflow %s asks at step %s", prefix, f.Name, out.Step))
	case flows.Done:
		t.decide(kind, fmt.Sprintf("%sflow %s finished at step %s", prefix, f.Name, out.Step))
	case flows.HandedOff:
		if err := e.handOff(ctx, t, fmt.Sprintf("%sflow %s handed off at step %s", prefix, f.Name, out.Step), 0, len(out.Replies) > 0); err != nil {
			return err
		}
	default:
		t.st.Flow = flows.State{}
		t.replies = append(t.replies, tandem.Reply{Text: defaultFlowFailed, QuickReplies: quickReplies([]string{talkToPerson})})
		if r, ok := t.def.Responses[ResponseFallbackOfferHuman]; ok && len(r.Variations) > 0 {
			t.replies = t.replies[:len(t.replies)-1]
			t.say(ResponseFallbackOfferHuman, defaultFlowFailed)
		}
		t.decide(tandem.DecisionFallback, fmt.Sprintf("%sflow %s failed at step %s: %s; offered a human", prefix, f.Name, out.Step, out.Reason))
		t.st.OfferedHuman = true
	}
	t.decision.Flow, t.decision.Step = f.Name, out.Step
	return nil
}

// runIntent does what a confident intent says: start a flow, say a response, hand off, or
// answer from knowledge.
func (e *Engine) runIntent(ctx context.Context, t *turn, in *Intent) error {
	switch {
	case in.Handoff && t.def.Handoff.OnRequest:
		return e.handOff(ctx, t, "customer asked for a human: "+t.intentNote(), 0, false)
	case in.Flow != "":
		f := t.def.Flows[in.Flow]
		st, out := t.runner.Start(ctx, f, &t.data, flows.Trigger{Text: t.text, Entities: t.ann.Entities})
		if err := e.applyFlow(ctx, t, f, st, out, tandem.DecisionIntent, t.intentNote()+" started "); err != nil {
			return err
		}
		t.decision.Intent = in.Name
		return nil
	case in.Response != "":
		t.say(in.Response, "")
		t.decide(tandem.DecisionIntent, t.intentNote()+" → response "+in.Response)
		t.decision.Intent = in.Name
		return nil
	}
	ok, err := e.answerKnowledge(ctx, t, t.intentNote()+" answered from knowledge")
	if ok || err != nil {
		if ok {
			t.decision.Intent = in.Name
		}
		return err
	}
	return e.fallback(ctx, t)
}

// ask queries the knowledge base; nil means no usable answer.
func (e *Engine) ask(ctx context.Context, t *turn) (*KnowledgeAnswer, error) {
	if e.kb == nil {
		return nil, nil
	}
	lang := t.ann.Language
	if lang == "" {
		lang = t.def.Language
	}
	ans, err := e.kb.Answer(ctx, Question{Text: t.text, Collections: t.def.Knowledge.Collections, Language: lang,
		LLM: t.bot.LLM, Persona: t.def.Persona})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A broken knowledge base must not break the conversation: fall back instead.
		e.logger.Warn("knowledge answer", "bot_id", t.def.ID, "conversation_id", t.conv.ID, "error", err)
		return nil, nil
	}
	switch {
	case ans == nil:
		return nil, nil
	case !ans.Found || strings.TrimSpace(ans.Text) == "":
		t.unanswered(lang, ans.Reason)
		return nil, nil
	case t.def.Knowledge.MinConfidence > 0 && ans.Confidence < t.def.Knowledge.MinConfidence:
		t.unanswered(lang, "below_min_confidence")
		return nil, nil
	}
	return ans, nil
}

// unanswered reports the customer's question to the editors' unanswered report, in the
// turn's own transaction.
func (t *turn) unanswered(lang, reason string) {
	question, _ := pii.Redact(t.text)
	t.audit = append(t.audit, &tandem.AuditEntry{Actor: "system", Action: tandem.AuditQuestionUnanswered,
		Subject: strings.Join(t.def.Knowledge.Collections, ","),
		Detail:  map[string]string{"question": question, "bot": t.def.ID, "language": lang, "reason": reason}})
}

// answerKnowledge replies from the knowledge base when it has an answer.
func (e *Engine) answerKnowledge(ctx context.Context, t *turn, why string) (bool, error) {
	ans, err := e.ask(ctx, t)
	if err != nil || ans == nil {
		return false, err
	}
	t.replies = append(t.replies, tandem.Reply{Text: ans.Text, Citations: ans.Citations})
	t.decide(tandem.DecisionKnowledge, fmt.Sprintf("%s: knowledge answer (confidence %.2f, %d citations)", why, ans.Confidence, len(ans.Citations)))
	return true, nil
}

// fallback asks the customer to rephrase, offering the likeliest intents; after the bot's
// after_failed_turns it offers a human, and one more failure hands off.
func (e *Engine) fallback(ctx context.Context, t *turn) error {
	t.st.Failed++
	n := t.def.Handoff.AfterFailedTurns
	if n > 0 && t.st.Failed > n {
		return e.handOff(ctx, t, fmt.Sprintf("%d consecutive turns not understood", t.st.Failed), 0, false)
	}
	if n > 0 && t.st.Failed == n {
		before := len(t.replies)
		t.say(ResponseFallbackOfferHuman, defaultOfferHuman)
		if len(t.replies) > before && len(t.replies[len(t.replies)-1].QuickReplies) == 0 {
			t.replies[len(t.replies)-1].QuickReplies = quickReplies([]string{talkToPerson})
		}
		t.decide(tandem.DecisionFallback, fmt.Sprintf("not understood %d times in a row (%s); offered a human", t.st.Failed, t.intentNote()))
		t.st.OfferedHuman = true
		return nil
	}
	var cands []tandem.QuickReply
	for _, s := range t.ann.Intents {
		in, ok := t.def.Intent(s.Name)
		if !ok || s.Name == tandem.IntentOutOfScope || in.Handoff || len(in.Examples) == 0 || s.Confidence < 0.05 {
			continue
		}
		cands = append(cands, tandem.QuickReply{Title: humanize(in.Name), Payload: in.Examples[0]})
		if len(cands) == 3 {
			break
		}
	}
	before := len(t.replies)
	t.say(ResponseFallbackClarify, defaultClarify)
	if len(cands) > 0 && len(t.replies) > before {
		t.replies[len(t.replies)-1].QuickReplies = cands
	}
	names := make([]string, len(cands))
	for i, c := range cands {
		names[i] = c.Title
	}
	t.decide(tandem.DecisionFallback, fmt.Sprintf("not understood (%s); asked to clarify with %d candidates [%s]", t.intentNote(), len(cands), strings.Join(names, ", ")))
	return nil
}

// humanize turns an intent name into a button title: order_status -> "Order status".
func humanize(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
