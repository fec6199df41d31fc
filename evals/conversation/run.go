package conversation

import (
	"context"
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Engine answers customer messages; *bots.Engine satisfies it. Run calls it from one
// goroutine, turn after turn.
type Engine interface {
	HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error)
}

// Options tune Run. The zero value plays the tests against bot "demo".
type Options struct {
	// BotID is the bot the messages are addressed to (default "demo").
	BotID string
	// CustomerPrefix starts each test's customer id, "<prefix>-<n>" (default "eval"); use a
	// fresh prefix per run when the engine's store outlives it.
	CustomerPrefix string
	// Now measures turn latency (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.BotID == "" {
		o.BotID = "demo"
	}
	if o.CustomerPrefix == "" {
		o.CustomerPrefix = "eval"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Result is what a run found: every test and turn with its verdict, and the metrics.
type Result struct {
	Bot     string       `json:"bot"`
	Tests   []TestResult `json:"tests"`
	Metrics Metrics      `json:"metrics"`
}

// TestResult is one test's verdict; it passed when every turn passed.
type TestResult struct {
	Name   string       `json:"name"`
	File   string       `json:"file,omitempty"`
	Passed bool         `json:"passed"`
	Turns  []TurnResult `json:"turns"`
}

// TurnResult is one turn's verdict with what the bot did.
type TurnResult struct {
	Index  int    `json:"index"`
	Line   int    `json:"line,omitempty"`
	User   string `json:"user"`
	Passed bool   `json:"passed"`
	// Played is false when the turn was skipped (an earlier engine error, a cancelled run).
	Played bool `json:"played"`
	// Failures say, one per unmet expectation, what was expected and what came.
	Failures   []string `json:"failures,omitempty"`
	Expect     Expect   `json:"expect"`
	Intent     string   `json:"intent"`
	Confidence float64  `json:"confidence"`
	Entities   []string `json:"entities,omitempty"` // "type/value"
	Decision   string   `json:"decision"`
	Reason     string   `json:"reason"`
	Flow       string   `json:"flow,omitempty"`
	ActiveFlow string   `json:"active_flow,omitempty"`
	ActiveStep string   `json:"active_step,omitempty"`
	Replies    []string `json:"replies"`
	Cites      []string `json:"cites,omitempty"`
	Handoff    bool     `json:"handoff"`
	LatencyMS  float64  `json:"latency_ms"`
}

// Metrics summarise a run. A ratio with nothing to score is 1 (nothing was missed).
type Metrics struct {
	Tests       int `json:"tests"`
	TestsPassed int `json:"tests_passed"`
	Turns       int `json:"turns"`
	TurnsPassed int `json:"turns_passed"`
	// IntentTurns are the turns that expect an intent; IntentAccuracy the share that got it.
	IntentTurns    int     `json:"intent_turns"`
	IntentAccuracy float64 `json:"intent_accuracy"`
	// HandoffTurns are the turns that expect handoff true or false; precision is over the
	// ones handed off, recall over the ones that should have been.
	HandoffTurns     int     `json:"handoff_turns"`
	HandoffPrecision float64 `json:"handoff_precision"`
	HandoffRecall    float64 `json:"handoff_recall"`
	// Latency of HandleMessage per turn, in milliseconds.
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
}

// Failed reports whether any test failed.
func (r Result) Failed() bool { return r.Metrics.TestsPassed < r.Metrics.Tests }

// Run plays each test as a fresh customer on the web chat channel, turns in order, and
// checks every expectation. An engine error fails its turn and skips the test's later turns;
// a cancelled ctx fails the turns not yet played. Run never returns an error: every
// problem is a failure in the Result.
func Run(ctx context.Context, engine Engine, tests []Test, opts Options) Result {
	opts = opts.withDefaults()
	res := Result{Bot: opts.BotID, Tests: make([]TestResult, 0, len(tests))}
	for i, t := range tests {
		tr := TestResult{Name: t.Name, File: t.File, Passed: true}
		customer := fmt.Sprintf("%s-%d", opts.CustomerPrefix, i+1)
		var stop string
		for j, tu := range t.Turns {
			r := TurnResult{Index: j, Line: tu.Line, User: tu.User, Expect: tu.Expect}
			if stop == "" && ctx.Err() != nil {
				stop = fmt.Sprintf("not played: %v", ctx.Err())
			}
			if stop != "" {
				r.Failures = []string{stop}
			} else {
				t0 := opts.Now()
				turn, err := engine.HandleMessage(ctx, tandem.Inbound{BotID: opts.BotID, Channel: tandem.ChannelWebChat,
					ExternalID: customer, Text: tu.User, ReceivedAt: t0})
				r.LatencyMS = round(float64(opts.Now().Sub(t0)) / float64(time.Millisecond))
				r.Played = true
				if err != nil {
					r.Failures = []string{fmt.Sprintf("engine error: %v", err)}
					stop = fmt.Sprintf("not played: turn %d failed with an engine error", j+1)
				} else {
					describe(&r, turn)
					r.Failures = check(tu.Expect, &r)
				}
			}
			r.Passed = len(r.Failures) == 0
			tr.Passed = tr.Passed && r.Passed
			tr.Turns = append(tr.Turns, r)
		}
		res.Tests = append(res.Tests, tr)
	}
	res.Metrics = score(res.Tests)
	return res
}

// describe copies what the bot did into r.
func describe(r *TurnResult, t *tandem.Turn) {
	a := t.Annotations
	r.Intent, r.Confidence = a.Intent.Name, a.Intent.Confidence
	for _, e := range a.Entities {
		r.Entities = append(r.Entities, e.Type+"/"+e.Value)
	}
	r.Decision, r.Reason, r.Flow = string(t.Decision.Kind), t.Decision.Reason, t.Decision.Flow
	r.ActiveFlow, r.ActiveStep = t.ActiveFlow, t.ActiveStep
	r.Replies = []string{}
	for _, rep := range t.Replies {
		r.Replies = append(r.Replies, rep.Text)
		for _, c := range rep.Citations {
			r.Cites = append(r.Cites, path.Base(c.DocID))
		}
	}
	r.Handoff = t.Handoff != nil
}

// check returns one message per expectation r does not meet.
func check(x Expect, r *TurnResult) []string {
	var fails []string
	text := strings.Join(r.Replies, replySeparator)
	if x.Intent != "" && r.Intent != x.Intent {
		fails = append(fails, fmt.Sprintf("intent: want %s, got %s (%.2f)", x.Intent, orNone(r.Intent), r.Confidence))
	}
	for _, want := range x.Entities {
		if !hasEntity(r.Entities, want) {
			fails = append(fails, fmt.Sprintf("entities: want %s, got [%s]", want, strings.Join(r.Entities, ", ")))
		}
	}
	if x.Decision != "" && r.Decision != x.Decision {
		fails = append(fails, fmt.Sprintf("decision: want %s, got %s (%s)", x.Decision, r.Decision, r.Reason))
	}
	if x.Flow != nil && r.Flow != *x.Flow {
		fails = append(fails, fmt.Sprintf("flow: want %s, got %s", orNone(*x.Flow), orNone(r.Flow)))
	}
	if x.ActiveFlow != nil && r.ActiveFlow != *x.ActiveFlow {
		fails = append(fails, fmt.Sprintf("active flow: want %s, got %s", orNone(*x.ActiveFlow), orNone(r.ActiveFlow)))
	}
	if x.ActiveStep != nil && r.ActiveStep != *x.ActiveStep {
		fails = append(fails, fmt.Sprintf("active step: want %s, got %s", orNone(*x.ActiveStep), orNone(r.ActiveStep)))
	}
	if x.Contains != "" && !strings.Contains(strings.ToLower(text), strings.ToLower(x.Contains)) {
		fails = append(fails, fmt.Sprintf("contains: want %q in %q", x.Contains, text))
	}
	if x.Response != "" {
		re, err := regexp.Compile(x.Response)
		switch {
		case err != nil:
			fails = append(fails, fmt.Sprintf("response: bad regular expression: %v", err))
		case !re.MatchString(text):
			fails = append(fails, fmt.Sprintf("response: want /%s/ to match %q", x.Response, text))
		}
	}
	if x.Cites != "" && !slices.Contains(r.Cites, x.Cites) {
		fails = append(fails, fmt.Sprintf("cites: want %s, got [%s]", x.Cites, strings.Join(r.Cites, ", ")))
	}
	if x.Handoff != nil && r.Handoff != *x.Handoff {
		fails = append(fails, fmt.Sprintf("handoff: want %t, got %t (%s)", *x.Handoff, r.Handoff, r.Reason))
	}
	return fails
}

func hasEntity(got []string, want string) bool {
	wt, wv, withValue := strings.Cut(want, "/")
	for _, g := range got {
		gt, gv, _ := strings.Cut(g, "/")
		if gt == wt && (!withValue || strings.EqualFold(gv, wv)) {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// score computes the metrics of tests.
func score(tests []TestResult) Metrics {
	var m Metrics
	var intentOK, tp, fp, fn int
	var lat []float64
	for _, t := range tests {
		m.Tests++
		if t.Passed {
			m.TestsPassed++
		}
		for _, r := range t.Turns {
			m.Turns++
			if r.Passed {
				m.TurnsPassed++
			}
			played := r.Played
			if played {
				lat = append(lat, r.LatencyMS)
			}
			if r.Expect.Intent != "" {
				m.IntentTurns++
				if played && r.Intent == r.Expect.Intent {
					intentOK++
				}
			}
			if h := r.Expect.Handoff; h != nil {
				m.HandoffTurns++
				switch {
				case *h && r.Handoff:
					tp++
				case *h:
					fn++
				case r.Handoff:
					fp++
				}
			}
		}
	}
	m.IntentAccuracy = ratio(intentOK, m.IntentTurns)
	m.HandoffPrecision = ratio(tp, tp+fp)
	m.HandoffRecall = ratio(tp, tp+fn)
	m.LatencyP50MS, m.LatencyP95MS = percentile(lat, 0.50), percentile(lat, 0.95)
	return m
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return round(float64(n) / float64(d))
}

// percentile is the nearest-rank percentile of xs (0 when empty).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return round(s[max(i, 0)])
}

// round keeps four decimals, so reports and comparisons are stable.
func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }
