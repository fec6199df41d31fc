package flows

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// State is a flow's progress between turns; the engine serialises it with the conversation.
// The zero State means no active flow.
type State struct {
	Flow      string    `json:"flow,omitempty"`
	Step      string    `json:"step,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Active reports whether a flow is in progress.
func (s State) Active() bool { return s.Flow != "" }

// Customer is the customer as templates see it.
type Customer struct {
	ID   string
	Name string
}

// Bot is the bot as templates see it.
type Bot struct {
	ID   string
	Name string
}

// Data is what templates see: {{.Slots.x}}, {{.Profile.name}}, {{.Customer.Name}},
// {{.Bot.Name}}, {{.BaseURL}}. Steps write Slots and Profile in place.
type Data struct {
	Slots    map[string]string
	Profile  map[string]string
	Customer Customer
	Bot      Bot
	BaseURL  string
}

// Linker proves identities for link_identity steps. Implementations are safe for
// concurrent use.
type Linker interface {
	// SendCode sends a one-time code to (channel, address) for customerID.
	SendCode(ctx context.Context, customerID string, channel tandem.Channel, address string) error
	// VerifyCode checks code and links (channel, address) to customerID; a wrong or expired
	// code returns an EINVALID *tandem.Error.
	VerifyCode(ctx context.Context, customerID string, channel tandem.Channel, address, code string) error
}

// Status says where a flow stands after a Runner call.
type Status int

// Flow statuses.
const (
	Waiting   Status = iota // an ask step waits for the customer's answer
	Done                    // the flow ended
	HandedOff               // a step handed the conversation to a human
	Failed                  // an action failed with no on_error, too many bad answers, or a template failed
)

func (s Status) String() string {
	switch s {
	case Waiting:
		return "waiting"
	case Done:
		return "done"
	case HandedOff:
		return "handoff"
	default:
		return "failed"
	}
}

// Output is what a Runner call produced.
type Output struct {
	Replies []tandem.Reply
	// Profile holds the profile fields set by set_profile steps (already applied to Data).
	Profile map[string]string
	Status  Status
	Step    string // the last step that ran
	Reason  string // why the flow handed off or failed
}

// Runner executes flows. The zero value works (no signing, http.DefaultClient); a Runner is
// safe for concurrent use.
type Runner struct {
	Client *http.Client
	// Secret signs action request bodies (SignatureHeader); empty sends no signature.
	Secret string
	Vocab  *Vocabulary
	Now    func() time.Time
	// Linker sends and verifies one-time codes for link_identity steps (nil fails them).
	Linker Linker
	// Backoff is the first retry delay of actions, doubled per retry (default 100ms).
	Backoff time.Duration
	// IdempotencyKey names the customer message a turn answers; an action the turn calls
	// sends it with the flow, step and visit (IdempotencyKeyHeader), so running the turn
	// again sends the same keys. Empty: each call gets a random key, still the same on its
	// retries.
	IdempotencyKey string
}

const maxStepsPerTurn = 64

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Trigger is what started a flow: the customer's message (slots of precise types found in
// it — patterns, lists, email, phone — are filled so their questions are skipped) and slots
// set by the caller (a proactive message about an order).
type Trigger struct {
	Text     string
	Entities []tandem.Entity
	Slots    map[string]string
}

// Start runs f from its first step until it waits for an answer or ends. The slots the
// flow asks for are cleared first, then filled from the trigger.
func (r *Runner) Start(ctx context.Context, f *Flow, d *Data, tr Trigger) (State, Output) {
	if d.Slots == nil {
		d.Slots = map[string]string{}
	}
	for _, st := range f.Steps {
		if st.Ask == "" {
			continue
		}
		delete(d.Slots, st.Ask)
		if tr.Text != "" && prefillable(st.Type) {
			if v, ok := r.Accept(st, tr.Text, tr.Entities); ok {
				d.Slots[st.Ask] = v
			}
		}
	}
	for k, v := range tr.Slots {
		d.Slots[k] = v
	}
	var out Output
	return r.run(ctx, f, 0, d, &out), out
}

func prefillable(typ string) bool {
	switch typ {
	case "text", "number", "yesno", "date", "money":
		return false
	}
	return true
}

// Current returns the step a waiting flow is at.
func Current(f *Flow, st State) (*Step, bool) {
	s, _, ok := f.StepByID(st.Step)
	return s, ok
}

// Resume continues a waiting flow with the customer's answer: a valid answer fills the
// slot and the flow runs on; an invalid one re-prompts until max_attempts, then fails.
func (r *Runner) Resume(ctx context.Context, f *Flow, st State, d *Data, text string, ents []tandem.Entity) (State, Output) {
	var out Output
	step, i, ok := f.StepByID(st.Step)
	if !ok || step.Ask == "" {
		out.Status, out.Reason = Failed, fmt.Sprintf("flow %s has no ask step %q", f.Name, st.Step)
		return State{}, out
	}
	if d.Slots == nil {
		d.Slots = map[string]string{}
	}
	out.Step = step.ID
	v, ok := r.Accept(step, text, ents)
	if !ok {
		st.Attempts++
		if st.Attempts >= step.MaxAttempts {
			out.Status, out.Reason = Failed, fmt.Sprintf("no valid %s after %d attempts", step.Type, st.Attempts)
			return State{}, out
		}
		p := step.Reprompt
		if p == nil {
			p = step.Prompt
		}
		if !r.say(&out, p, step.QuickReplies, d) {
			return State{}, out
		}
		out.Status = Waiting
		st.UpdatedAt = r.now()
		return st, out
	}
	d.Slots[step.Ask] = v
	// The ask is answered: continue with what follows it in this step.
	if step.Handoff {
		out.Status, out.Reason = HandedOff, "flow step "+step.ID
		return State{}, out
	}
	if step.End {
		out.Status = Done
		return State{}, out
	}
	next := i + 1
	if step.Goto != "" {
		next = f.index[step.Goto]
	}
	return r.run(ctx, f, next, d, &out), out
}

// Prompt returns the current question of a waiting flow, to repeat it after an interruption.
func (r *Runner) Prompt(f *Flow, st State, d *Data) (tandem.Reply, bool) {
	step, ok := Current(f, st)
	if !ok || step.Prompt == nil {
		return tandem.Reply{}, false
	}
	var out Output
	if !r.say(&out, step.Prompt, step.QuickReplies, d) || len(out.Replies) == 0 {
		return tandem.Reply{}, false
	}
	return out.Replies[0], true
}

func (r *Runner) say(out *Output, t *Template, qr []string, d *Data) bool {
	text, err := t.Render(d)
	if err != nil {
		out.Status, out.Reason = Failed, "template: "+err.Error()
		return false
	}
	if text == "" {
		return true
	}
	rep := tandem.Reply{Text: text}
	if len(qr) > 0 {
		rep.QuickReplies = make([]tandem.QuickReply, len(qr))
		for i, q := range qr {
			rep.QuickReplies[i] = tandem.QuickReply{Title: q, Payload: q}
		}
	}
	out.Replies = append(out.Replies, rep)
	return true
}

func (r *Runner) run(ctx context.Context, f *Flow, i int, d *Data, out *Output) State {
	visits := map[string]int{} // action steps run so far, for their idempotency keys
	for n := 0; ; n++ {
		if n > maxStepsPerTurn {
			out.Status, out.Reason = Failed, "too many steps in one turn (a goto loop?)"
			return State{}
		}
		if i >= len(f.Steps) {
			out.Status = Done
			return State{}
		}
		st := f.Steps[i]
		out.Step = st.ID
		for k, t := range st.SetProfile {
			v, err := t.Render(d)
			if err != nil {
				out.Status, out.Reason = Failed, "template: "+err.Error()
				return State{}
			}
			if out.Profile == nil {
				out.Profile = map[string]string{}
			}
			if d.Profile == nil {
				d.Profile = map[string]string{}
			}
			out.Profile[k], d.Profile[k] = v, v
		}
		if st.Say != nil && !r.say(out, st.Say, st.QuickReplies, d) {
			return State{}
		}
		if st.Action != nil {
			visits[st.ID]++
			key := ""
			if r.IdempotencyKey != "" {
				key = fmt.Sprintf("%s/%s/%s/%d", r.IdempotencyKey, f.Name, st.ID, visits[st.ID])
			}
			if err := r.do(ctx, st.Action, d, key); err != nil {
				onErr := st.Action.OnError
				if onErr == "" {
					onErr = st.OnError
				}
				if onErr != "" {
					d.Slots["error"] = err.Error()
					i = f.index[onErr]
					continue
				}
				out.Status, out.Reason = Failed, "action: "+err.Error()
				return State{}
			}
		}
		if st.LinkIdentity != nil {
			if err := r.link(ctx, st.LinkIdentity, d); err != nil {
				if st.OnError != "" {
					d.Slots["error"] = tandem.ErrorMessage(err)
					i = f.index[st.OnError]
					continue
				}
				out.Status, out.Reason = Failed, "link_identity: "+err.Error()
				return State{}
			}
		}
		if st.If != nil {
			v, err := st.If.Render(d)
			if err != nil {
				out.Status, out.Reason = Failed, "template: "+err.Error()
				return State{}
			}
			target := st.Else
			if truthy(v) {
				target = st.Then
			}
			if target != "" {
				i = f.index[target]
				continue
			}
		}
		if st.Ask != "" {
			if _, filled := d.Slots[st.Ask]; !filled {
				if !r.say(out, st.Prompt, st.QuickReplies, d) {
					return State{}
				}
				out.Status = Waiting
				return State{Flow: f.Name, Step: st.ID, UpdatedAt: r.now()}
			}
		}
		if st.Handoff {
			out.Status, out.Reason = HandedOff, "flow step "+st.ID
			return State{}
		}
		if st.End {
			out.Status = Done
			return State{}
		}
		if st.Goto != "" {
			i = f.index[st.Goto]
			continue
		}
		i++
	}
}

func (r *Runner) link(ctx context.Context, li *LinkIdentity, d *Data) error {
	if r.Linker == nil {
		return tandem.Errorf(tandem.EINTERNAL, "identity linking is not configured")
	}
	addr, err := li.Address.Render(d)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	addr = strings.TrimSpace(addr)
	if li.Code == nil {
		return r.Linker.SendCode(ctx, d.Customer.ID, tandem.Channel(li.Channel), addr)
	}
	code, err := li.Code.Render(d)
	if err != nil {
		return fmt.Errorf("code: %w", err)
	}
	return r.Linker.VerifyCode(ctx, d.Customer.ID, tandem.Channel(li.Channel), addr, strings.TrimSpace(code))
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no", "<no value>":
		return false
	}
	return true
}
