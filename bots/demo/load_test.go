package demo_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/flows"
)

func load(t *testing.T) *bots.Definition {
	t.Helper()
	def, err := bots.Load(demo.FS, demo.Root)
	if err != nil {
		t.Fatalf("bots.Load: %v", err)
	}
	return def
}

// TestLoad checks the demo bot validates with the engine's loader and keeps the size the
// demo and the evals rely on.
func TestLoad(t *testing.T) {
	t.Parallel()
	def := load(t)
	if got, want := def.ID, "demo"; got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}
	if got := len(def.Intents); got < 16 {
		t.Errorf("%d intents, want at least 16", got)
	}
	for _, in := range def.Intents {
		if n := len(in.Examples); n < 12 || n > 20 {
			t.Errorf("intent %s has %d examples, want 12–20", in.Name, n)
		}
	}
	for _, name := range []string{bots.ResponseFallbackClarify, bots.ResponseFallbackOfferHuman,
		bots.ResponseHandoffStarted, bots.ResponseFlowCancelled, bots.ResponseFlowExpired, bots.ResponseGreet,
		"shipping_delay_notice", "return_received_notice"} {
		if _, ok := def.Responses[name]; !ok {
			t.Errorf("response %s missing", name)
		}
	}
	for name, want := range map[string]string{"order_status": "order_status", "return_request": "return_request", "link_account": "link_account"} {
		in, ok := def.Intent(name)
		if !ok || in.Flow != want {
			t.Errorf("intent %s: flow = %v, want %s", name, in, want)
		}
	}
	if in, ok := def.Intent("human_handoff"); !ok || !in.Handoff {
		t.Errorf("intent human_handoff does not hand off")
	}
	if in, ok := def.Intent("shipping_time"); !ok || !in.Knowledge() {
		t.Errorf("intent shipping_time is not answered from knowledge")
	}
	data := &flows.Data{Slots: map[string]string{"order_number": "A100001"}, Profile: map[string]string{"name": "Jane"},
		Bot: flows.Bot{ID: def.ID, Name: def.Name}}
	for name, r := range def.Responses {
		for i, v := range r.Variations {
			got, err := v.Text.Render(data)
			if err != nil || got == "" || strings.Contains(got, "<no value>") {
				t.Errorf("response %s[%d] renders %q, %v", name, i, got, err)
			}
		}
	}
	if got := len(def.Glossary); got < 40 {
		t.Errorf("%d glossary groups, want at least 40", got)
	}
	if def.KnowledgeFS == nil {
		t.Error("no knowledge folder")
	}
}

// codeLinker is an in-process Linker that issues fixed codes, for flow tests.
type codeLinker struct {
	mu     sync.Mutex
	sent   map[string]string
	linked map[string]string
}

func (l *codeLinker) SendCode(ctx context.Context, customerID string, ch tandem.Channel, addr string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[string(ch)+":"+addr] = "123456"
	return nil
}

func (l *codeLinker) VerifyCode(ctx context.Context, customerID string, ch tandem.Channel, addr, code string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if want, ok := l.sent[string(ch)+":"+addr]; !ok || want != code {
		return tandem.Errorf(tandem.EINVALID, "wrong or expired code")
	}
	l.linked[string(ch)+":"+addr] = customerID
	return nil
}

// TestFlows runs the demo flows with the real runner against the demo actions, signed.
func TestFlows(t *testing.T) {
	t.Parallel()
	def := load(t)
	const secret = "s3cret"
	srv := httptest.NewServer(demo.ActionsHandler(secret))
	t.Cleanup(srv.Close)

	type turn struct {
		user     string
		contains string // in the joined replies
	}
	tests := []struct {
		name    string
		flow    string
		trigger string
		first   string // in the replies of Start
		turns   []turn
		status  flows.Status
		profile map[string]string
		linked  string
	}{
		{name: "OK/orderShipped", flow: "order_status", trigger: "where is my order", first: "order number",
			turns: []turn{{"it's A100001", "UPS"}}, status: flows.Done},
		{name: "OK/orderInTrigger", flow: "order_status", trigger: "status of order a-100003 please", first: "delivered", status: flows.Done},
		{name: "OK/orderRetry", flow: "order_status", trigger: "track order A999999", first: "couldn't find order A999999",
			turns: []turn{{"sorry, it's A100002", "being prepared"}}, status: flows.Done},
		{name: "OK/orderNotFoundHuman", flow: "order_status", trigger: "track my order", first: "order number",
			turns: []turn{{"A999999", "couldn't find"}, {"A000001", "support team"}, {"yes", "passing this"}}, status: flows.HandedOff},
		{name: "OK/orderNotFoundNoHuman", flow: "order_status", trigger: "A999999", first: "couldn't find",
			turns: []turn{{"no idea", "still can't find"}, {"no", "Account > Orders"}}, status: flows.Done},
		{name: "OK/orderReprompt", flow: "order_status", trigger: "where is my order", first: "order number",
			turns: []turn{{"12345", "doesn't look like"}, {"A100001", "UPS"}}, status: flows.Done},
		{name: "OK/returnDamaged", flow: "return_request", trigger: "I want to return an item", first: "order number",
			turns:  []turn{{"A100003", "Why are you returning"}, {"it arrived broken", "because it's damaged"}, {"yes", "label.pdf"}},
			status: flows.Done, profile: map[string]string{"last_return": "R"}},
		{name: "OK/returnFeeForChangedMind", flow: "return_request", trigger: "return order A100001, I changed my mind", first: "you changed your mind",
			turns: []turn{{"yes please", "$4.99"}}, status: flows.Done},
		{name: "OK/returnDeclined", flow: "return_request", trigger: "return A100001", first: "Why are you returning",
			turns: []turn{{"too small", "wrong size"}, {"no", "haven't opened"}}, status: flows.Done},
		{name: "OK/returnReasonReprompt", flow: "return_request", trigger: "start a return for A100001", first: "Why are you returning",
			turns: []turn{{"purple elephants", "didn't catch the reason"}, {"not as described", "not as described"}}, status: flows.Waiting},
		{name: "ErrReturnUnknownOrder", flow: "return_request", trigger: "return A999999 it's damaged", first: "Shall I go ahead",
			turns: []turn{{"yes", "support team"}}, status: flows.HandedOff},
		{name: "OK/link", flow: "link_account", trigger: "link my account", first: "email address",
			turns: []turn{{"it's Jane@Example.com", "6-digit code"}, {"123456", "now linked"}}, status: flows.Done, linked: "email:jane@example.com"},
		{name: "OK/linkEmailInTrigger", flow: "link_account", trigger: "link my account jane@example.com", first: "6-digit code",
			turns: []turn{{"654321", "didn't match"}}, status: flows.Done},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, ok := def.Flows[tt.flow]
			if !ok {
				t.Fatalf("no flow %s", tt.flow)
			}
			linker := &codeLinker{sent: map[string]string{}, linked: map[string]string{}}
			r := &flows.Runner{Client: srv.Client(), Secret: secret, Vocab: def.Vocab, Linker: linker, Backoff: 1}
			d := &flows.Data{Slots: map[string]string{}, Profile: map[string]string{},
				Customer: flows.Customer{ID: "c1"}, Bot: flows.Bot{ID: def.ID, Name: def.Name}, BaseURL: srv.URL}
			ctx := context.Background()
			st, out := r.Start(ctx, f, d, flows.Trigger{Text: tt.trigger})
			check := func(user, want string, out flows.Output) {
				t.Helper()
				var texts []string
				for _, rep := range out.Replies {
					texts = append(texts, rep.Text)
				}
				got := strings.Join(texts, " | ")
				if out.Status == flows.Failed {
					t.Fatalf("after %q: flow failed at %s: %s", user, out.Step, out.Reason)
				}
				if !strings.Contains(got, want) {
					t.Fatalf("after %q: replies %q do not contain %q", user, got, want)
				}
			}
			check(tt.trigger, tt.first, out)
			for _, tu := range tt.turns {
				if !st.Active() {
					t.Fatalf("flow ended (%v) before %q", out.Status, tu.user)
				}
				st, out = r.Resume(ctx, f, st, d, tu.user, nil)
				check(tu.user, tu.contains, out)
			}
			if got, want := out.Status, tt.status; got != want {
				t.Errorf("status = %v, want %v (step %s, %s)", got, want, out.Step, out.Reason)
			}
			for k, prefix := range tt.profile {
				if got := d.Profile[k]; !strings.HasPrefix(got, prefix) || len(got) <= len(prefix) {
					t.Errorf("profile %s = %q, want prefix %q", k, got, prefix)
				}
			}
			if tt.linked != "" {
				if got, want := linker.linked[tt.linked], "c1"; got != want {
					t.Errorf("linked %s to %q, want %q", tt.linked, got, want)
				}
			}
		})
	}
}
