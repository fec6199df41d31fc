package flows_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
)

var vocab = &flows.Vocabulary{
	Patterns: map[string]*regexp.Regexp{"order_number": regexp.MustCompile(`\b[Aa]-?\d{6}\b`)},
	Lists:    map[string]map[string][]string{"reason": {"damaged": {"broken", "cracked"}, "wrong_size": {"too small", "too big"}}},
}

func mustParse(t *testing.T, src string) *flows.Flow {
	t.Helper()
	f, err := flows.Parse("f.yaml", []byte(src), vocab)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // substring of the error
	}{
		{"ErrUnknownField", "name: a\nsteps:\n  - id: s\n    say: hi\n    bogus: 1\n", "f.yaml:5: steps[0].bogus: unknown field"},
		{"ErrUnknownActionField", "name: a\nsteps:\n  - action:\n      url: http://x\n      retry: 2\n", "f.yaml:5: steps[0].action.retry: unknown field"},
		{"ErrBadName", "name: A B\nsteps:\n  - say: hi\n", "f.yaml:1: name"},
		{"ErrNoSteps", "name: a\n", "steps"},
		{"ErrUnknownGoto", "name: a\nsteps:\n  - say: hi\n    goto: nowhere\n", `f.yaml:4: goto: no step "nowhere"`},
		{"ErrUnknownSlotType", "name: a\nsteps:\n  - ask: x\n    type: colour\n    prompt: p\n", "f.yaml:4: type: unknown slot type"},
		{"ErrAskWithoutPrompt", "name: a\nsteps:\n  - ask: x\n", "prompt"},
		{"ErrBadTemplate", "name: a\nsteps:\n  - say: '{{.Slots.x'\n", "f.yaml:3: say"},
		{"ErrBadTimeout", "name: a\nsteps:\n  - action:\n      url: http://x\n      timeout: soon\n", "f.yaml:5: action.timeout"},
		{"ErrDuplicateStep", "name: a\nsteps:\n  - id: s\n    say: a\n  - id: s\n    say: b\n", "duplicate step id"},
		{"ErrEmptyStep", "name: a\nsteps:\n  - id: s\n", "does nothing"},
		{"ErrWrongType", "name: a\nsteps:\n  - say: hi\n    max_attempts: many\n", "f.yaml:4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := flows.Parse("f.yaml", []byte(tt.src), vocab)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

const returnFlow = `
name: return_request
steps:
  - id: ask_order
    ask: order_number
    type: order_number
    prompt: "Order number?"
    reprompt: "Like A123456."
    max_attempts: 2
  - id: ask_reason
    ask: reason
    type: list:reason
    prompt: "Why?"
    quick_replies: [Damaged, Wrong size]
  - id: branch
    if: '{{eq .Slots.reason "damaged"}}'
    then: sorry
    else: done
  - id: sorry
    say: "Sorry it arrived damaged."
    set_profile: {last_return_order: "{{.Slots.order_number}}"}
  - id: done
    say: "Return for {{.Slots.order_number}} ({{.Slots.reason}}) is open."
    end: true
`

func TestRunner(t *testing.T) {
	t.Parallel()
	f := mustParse(t, returnFlow)
	r := &flows.Runner{Vocab: vocab}
	type input struct {
		text       string
		wantStatus flows.Status
		wantReply  string
	}
	tests := []struct {
		name    string
		trigger string
		inputs  []input
		profile map[string]string
	}{
		{"OK", "I want to return something", []input{
			{"A123456", flows.Waiting, "Why?"},
			{"it came broken", flows.Done, "Return for A123456 (damaged) is open."},
		}, map[string]string{"last_return_order": "A123456"}},
		{"OKPrefilledFromTrigger", "return order A654321 please", []input{
			{"too small", flows.Done, "Return for A654321 (wrong_size) is open."},
		}, nil},
		{"OKReprompt", "return", []input{
			{"no idea", flows.Waiting, "Like A123456."},
			{"a-111111", flows.Waiting, "Why?"},
		}, nil},
		{"ErrMaxAttempts", "return", []input{
			{"no idea", flows.Waiting, "Like A123456."},
			{"still no idea", flows.Failed, ""},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &flows.Data{}
			st, out := r.Start(context.Background(), f, d, flows.Trigger{Text: tt.trigger})
			if out.Status != flows.Waiting {
				t.Fatalf("start status = %v (%s)", out.Status, out.Reason)
			}
			for i, in := range tt.inputs {
				st, out = r.Resume(context.Background(), f, st, d, in.text, nil)
				if out.Status != in.wantStatus {
					t.Fatalf("input %d: status = %v (%s), want %v", i, out.Status, out.Reason, in.wantStatus)
				}
				if in.wantReply != "" && (len(out.Replies) == 0 || out.Replies[len(out.Replies)-1].Text != in.wantReply) {
					t.Fatalf("input %d: replies = %+v, want last %q", i, out.Replies, in.wantReply)
				}
				if (out.Status == flows.Waiting) != st.Active() {
					t.Fatalf("input %d: state active = %v with status %v", i, st.Active(), out.Status)
				}
			}
			for k, v := range tt.profile {
				if got := d.Profile[k]; got != v {
					t.Errorf("profile %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestAccept(t *testing.T) {
	t.Parallel()
	r := &flows.Runner{Vocab: vocab}
	tests := []struct {
		name, typ, text, want string
		ok                    bool
		ents                  []tandem.Entity
	}{
		{"OKEmail", "email", "it's Jane@Example.com thanks", "jane@example.com", true, nil},
		{"ErrEmail", "email", "jane at example", "", false, nil},
		{"OKNumber", "number", "about 3,5 kg", "3.5", true, nil},
		{"OKPhone", "phone", "+1 (555) 010-0199", "+15550100199", true, nil},
		{"OKPhoneEntity", "phone", "my cell", "+15550100199", true, []tandem.Entity{{Type: "phone", Value: "+15550100199"}}},
		{"ErrPhoneShort", "phone", "12345", "", false, nil},
		{"OKDate", "date", "on 2026-12-01", "2026-12-01", true, nil},
		{"ErrDate", "date", "2026-13-45", "", false, nil},
		{"OKYes", "yesno", "Yes please!", "yes", true, nil},
		{"OKNo", "yesno", "nope", "no", true, nil},
		{"ErrYesNo", "yesno", "maybe", "", false, nil},
		{"OKList", "list:reason", "it was CRACKED", "damaged", true, nil},
		{"OKListCanonical", "list:reason", "wrong size", "wrong_size", true, nil},
		{"ErrList", "list:reason", "I changed my mind", "", false, nil},
		{"OKPattern", "order_number", "order a-123456 pls", "a-123456", true, nil},
		{"ErrPattern", "order_number", "order 123", "", false, nil},
		{"ErrEmptyText", "text", "   ", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := r.Accept(&flows.Step{Type: tt.typ}, tt.text, tt.ents)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Accept(%s, %q) = %q, %v; want %q, %v", tt.typ, tt.text, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestActionIdempotencyKey checks that an action's retries share one key, that the
// runner's key makes it the same when the turn runs again, and that a bot's own header wins.
func TestActionIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := mustParse(t, actionFlow)
	const ownFlow = `
name: own
steps:
  - id: call
    action:
      method: POST
      url: "{{.BaseURL}}/orders"
      headers: {idempotency-key: "order-{{.Slots.order}}"}
      body: {order: "{{.Slots.order}}"}
      timeout: 200ms
    end: true
`
	own := mustParse(t, ownFlow)
	tests := []struct {
		name string
		flow *flows.Flow
		key  string // Runner.IdempotencyKey
		// Keys sent by two runs of the flow (lookup's first try fails with a 503); "$a" and
		// "$b" stand for two different random keys.
		want []string
	}{
		{"OKTurnKey", f, "msg-1", []string{"msg-1/lookup/call/1", "msg-1/lookup/call/1", "msg-1/lookup/call/1", "msg-1/lookup/call/1"}},
		{"OKRandomPerCall", f, "", []string{"$a", "$a", "$b", "$b"}},
		{"OKBotHeader", own, "msg-1", []string{"order-A1", "order-A1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Header.Get(flows.IdempotencyKeyHeader))
				first := len(got)%2 == 1
				mu.Unlock()
				if first && tt.flow == f {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				_, _ = io.WriteString(w, `{"status":"shipped","items":[{"name":"boots"}]}`)
			}))
			defer srv.Close()
			r := &flows.Runner{Client: srv.Client(), Backoff: time.Millisecond, IdempotencyKey: tt.key}
			for range 2 {
				d := &flows.Data{BaseURL: srv.URL, Slots: map[string]string{"order": "A1"}}
				if _, out := r.Start(context.Background(), tt.flow, d, flows.Trigger{}); out.Status != flows.Done {
					t.Fatalf("out = %+v", out)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("keys = %q, want %d requests", got, len(tt.want))
			}
			bound := map[string]string{} // placeholder → the key it stood for
			for i, w := range tt.want {
				if !strings.HasPrefix(w, "$") {
					if got[i] != w {
						t.Errorf("key %d = %q, want %q", i, got[i], w)
					}
					continue
				}
				if b, ok := bound[w]; got[i] == "" || ok && got[i] != b {
					t.Errorf("keys = %q, want the pattern %q", got, tt.want)
				}
				bound[w] = got[i]
			}
			if len(bound) == 2 && bound["$a"] == bound["$b"] {
				t.Errorf("keys = %q: two calls shared a random key", got)
			}
		})
	}
}

const actionFlow = `
name: lookup
steps:
  - id: call
    action:
      method: POST
      url: "{{.BaseURL}}/orders"
      body: {order: "{{.Slots.order}}"}
      timeout: 200ms
      retries: 2
      save: {status: "$.status", first: "$.items[0].name"}
      on_error: failed
  - id: ok
    say: "{{.Slots.status}} / {{.Slots.first}}"
    end: true
  - id: failed
    say: "failed"
    end: true
`

func TestAction(t *testing.T) {
	t.Parallel()
	f := mustParse(t, actionFlow)
	const secret = "s3cret"
	tests := []struct {
		name      string
		handler   func(calls int32, w http.ResponseWriter, r *http.Request)
		secret    string
		wantReply string
		wantCalls int32
	}{
		{"OK", func(_ int32, w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"status":"shipped","items":[{"name":"boots"}]}`)
		}, secret, "shipped / boots", 1},
		{"OKRetryOn5xx", func(n int32, w http.ResponseWriter, r *http.Request) {
			if n < 3 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			_, _ = io.WriteString(w, `{"status":"late","items":[]}`)
		}, secret, "late / ", 3},
		{"ErrAllRetriesFail", func(_ int32, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, secret, "failed", 3},
		{"ErrNoRetryOn4xx", func(_ int32, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		}, secret, "failed", 1},
		{"ErrTimeout", func(_ int32, w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, secret, "failed", 3},
		{"ErrBadSignature", nil, "wrong-secret", "failed", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				if got, want := r.Header.Get(flows.SignatureHeader), flows.Sign(secret, body); got != want {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				var req map[string]string
				if err := json.Unmarshal(body, &req); err != nil || req["order"] != "A123456" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				if r.Method != http.MethodPost || r.URL.Path != "/orders" {
					w.WriteHeader(http.StatusMethodNotAllowed)
					return
				}
				tt.handler(n, w, r)
			}))
			defer srv.Close()
			r := &flows.Runner{Client: srv.Client(), Secret: tt.secret, Backoff: time.Millisecond}
			d := &flows.Data{BaseURL: srv.URL, Slots: map[string]string{"order": "A123456"}}
			_, out := r.Start(context.Background(), f, d, flows.Trigger{})
			if out.Status != flows.Done || len(out.Replies) != 1 || out.Replies[0].Text != tt.wantReply {
				t.Fatalf("out = %+v, want reply %q", out, tt.wantReply)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestLinkIdentityStep(t *testing.T) {
	t.Parallel()
	f := mustParse(t, `
name: link
steps:
  - id: send
    link_identity: {channel: email, address: "{{.Slots.email}}"}
    on_error: oops
  - id: ask_code
    ask: code
    prompt: "Code?"
  - id: verify
    link_identity: {channel: email, address: "{{.Slots.email}}", code: "{{.Slots.code}}"}
    on_error: oops
  - say: linked
    end: true
  - id: oops
    say: "error: {{.Slots.error}}"
    end: true
`)
	tests := []struct {
		name, code, want string
	}{
		{"OK", "123456", "linked"},
		{"ErrBadCode", "000000", "error: bad code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &linker{}
			r := &flows.Runner{Linker: l}
			d := &flows.Data{Slots: map[string]string{"email": "jane@example.com"}, Customer: flows.Customer{ID: "c1"}}
			st, out := r.Start(context.Background(), f, d, flows.Trigger{})
			if out.Status != flows.Waiting || l.sent != "c1 email jane@example.com" {
				t.Fatalf("start: %+v sent=%q", out, l.sent)
			}
			_, out = r.Resume(context.Background(), f, st, d, tt.code, nil)
			if out.Status != flows.Done || out.Replies[len(out.Replies)-1].Text != tt.want {
				t.Fatalf("resume: %+v, want %q", out, tt.want)
			}
		})
	}
}

type linker struct{ sent string }

func (l *linker) SendCode(ctx context.Context, customerID string, ch tandem.Channel, addr string) error {
	l.sent = customerID + " " + string(ch) + " " + addr
	return nil
}

func (l *linker) VerifyCode(ctx context.Context, customerID string, ch tandem.Channel, addr, code string) error {
	if code != "123456" {
		return tandem.Errorf(tandem.EINVALID, "bad code")
	}
	return nil
}
