package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/evals/conversation"
)

// scripted answers each text with a fixed turn and records what it was sent.
type scripted struct {
	mu    sync.Mutex
	turns map[string]*tandem.Turn
	sent  []tandem.Inbound
}

func (s *scripted) HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, in)
	if in.Text == "boom" {
		return nil, errors.New("store is down")
	}
	t, ok := s.turns[in.Text]
	if !ok {
		return &tandem.Turn{Decision: tandem.Decision{Kind: tandem.DecisionFallback, Reason: "no intent"}}, nil
	}
	return t, nil
}

func newScripted() *scripted {
	return &scripted{turns: map[string]*tandem.Turn{
		"where is my order": {
			Annotations: tandem.Annotations{Intent: tandem.IntentScore{Name: "order_status", Confidence: 0.91}},
			Decision:    tandem.Decision{Kind: tandem.DecisionIntent, Reason: "intent order_status starts flow order_status", Flow: "order_status"},
			Replies:     []tandem.Reply{{Text: "What is your order number?"}},
		},
		"A100001": {
			Annotations: tandem.Annotations{Intent: tandem.IntentScore{Name: "order_status", Confidence: 0.40},
				Entities: []tandem.Entity{{Type: "order_number", Value: "A100001", Text: "A100001"}}},
			Decision: tandem.Decision{Kind: tandem.DecisionFlow, Reason: "flow order_status finished", Flow: "order_status"},
			Replies:  []tandem.Reply{{Text: "Order A100001 shipped with UPS."}, {Text: "Anything else?"}},
		},
		"how much is shipping": {
			Annotations: tandem.Annotations{Intent: tandem.IntentScore{Name: "shipping_cost", Confidence: 0.62}},
			Decision:    tandem.Decision{Kind: tandem.DecisionKnowledge, Reason: "answered from knowledge"},
			Replies:     []tandem.Reply{{Text: "Shipping is free over $50.", Citations: []tandem.Citation{{DocID: "kb/shipping.md"}}}},
		},
		"a human please": {
			Annotations: tandem.Annotations{Intent: tandem.IntentScore{Name: "handoff", Confidence: 0.97}},
			Decision:    tandem.Decision{Kind: tandem.DecisionHandoff, Reason: "customer asked for a person"},
			Replies:     []tandem.Reply{{Text: "Connecting you to a person."}},
			Handoff:     &tandem.HandoffInfo{TicketID: "t1", Queue: "support"},
		},
	}}
}

// clock advances by step on every call, so latencies are deterministic.
func clock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

func ptr[T any](v T) *T { return &v }

// fixtureTests are two passing tests and two failing ones (wrong expectations, an engine error).
func fixtureTests() []conversation.Test {
	return []conversation.Test{
		{Name: "order status", File: "tests/order.yaml", Turns: []conversation.Turn{
			{Line: 3, User: "where is my order", Expect: conversation.Expect{Intent: "order_status", Decision: "intent", Contains: "ORDER NUMBER", Handoff: ptr(false)}},
			{Line: 5, User: "A100001", Expect: conversation.Expect{Decision: "flow", Flow: ptr("order_status"), Response: `(?i)shipped with (UPS|FedEx)\b.*else`,
				Entities: []string{"order_number/a100001", "order_number"}}},
		}},
		{Name: "handoff on request", File: "tests/handoff.yaml", Turns: []conversation.Turn{
			{Line: 3, User: "a human please", Expect: conversation.Expect{Intent: "handoff", Handoff: ptr(true), Flow: ptr("")}},
		}},
		{Name: "wrong expectations", File: "tests/wrong.yaml", Turns: []conversation.Turn{
			{Line: 3, User: "how much is shipping", Expect: conversation.Expect{Intent: "shipping_time", Cites: "returns.md",
				Decision: "intent", Contains: "refund", Response: "^Free", Entities: []string{"money"}, Flow: ptr("shipping"), Handoff: ptr(true)}},
			{Line: 6, User: "how much is shipping", Expect: conversation.Expect{Intent: "shipping_cost", Cites: "shipping.md"}},
		}},
		{Name: "engine error", File: "tests/error.yaml", Turns: []conversation.Turn{
			{Line: 3, User: "boom", Expect: conversation.Expect{Intent: "greet"}},
			{Line: 4, User: "a human please", Expect: conversation.Expect{Handoff: ptr(true)}},
		}},
	}
}

func fixtureResult() conversation.Result {
	return conversation.Run(context.Background(), newScripted(), fixtureTests(), conversation.Options{Now: clock(2 * time.Millisecond)})
}

func TestRun(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		eng := newScripted()
		res := conversation.Run(context.Background(), eng, fixtureTests()[:2], conversation.Options{BotID: "acme", Now: clock(time.Millisecond)})
		if res.Failed() || res.Metrics.TestsPassed != 2 || res.Metrics.TurnsPassed != 3 {
			t.Fatalf("result = %+v, want both tests passed", res)
		}
		want := []string{"eval-1", "eval-1", "eval-2"}
		for i, in := range eng.sent {
			if in.BotID != "acme" || in.Channel != tandem.ChannelWebChat || in.ExternalID != want[i] {
				t.Errorf("message %d = %+v, want bot acme, webchat, customer %s", i, in, want[i])
			}
		}
		r := res.Tests[0].Turns[1]
		if r.Decision != "flow" || r.Flow != "order_status" || len(r.Replies) != 2 || r.Entities[0] != "order_number/A100001" {
			t.Errorf("turn = %+v, want what the bot did", r)
		}
	})
	t.Run("ErrWrongExpectationsFail", func(t *testing.T) {
		t.Parallel()
		res := fixtureResult()
		if !res.Failed() {
			t.Fatal("run with wrong expectations passed")
		}
		wrong := res.Tests[2]
		if wrong.Passed || wrong.Turns[0].Passed || !wrong.Turns[1].Passed {
			t.Fatalf("test = %+v, want turn 1 failed, turn 2 passed", wrong)
		}
		got := strings.Join(wrong.Turns[0].Failures, "\n")
		for _, want := range []string{
			"intent: want shipping_time, got shipping_cost (0.62)",
			"entities: want money, got []",
			"decision: want intent, got knowledge (answered from knowledge)",
			"flow: want shipping, got (none)",
			`contains: want "refund" in "Shipping is free over $50."`,
			`response: want /^Free/ to match "Shipping is free over $50."`,
			"cites: want returns.md, got [shipping.md]",
			"handoff: want true, got false (answered from knowledge)",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("failures:\n%s\nwant %q", got, want)
			}
		}
		if n := len(wrong.Turns[0].Failures); n != 8 {
			t.Errorf("%d failures, want one per expectation (8)", n)
		}
	})
	t.Run("ErrEngineSkipsRest", func(t *testing.T) {
		t.Parallel()
		res := fixtureResult()
		e := res.Tests[3]
		if e.Passed || !strings.Contains(e.Turns[0].Failures[0], "engine error: store is down") ||
			e.Turns[1].Played || !strings.Contains(e.Turns[1].Failures[0], "not played: turn 1 failed") {
			t.Fatalf("test = %+v, want the engine error and the skipped turn", e)
		}
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		eng := newScripted()
		res := conversation.Run(ctx, eng, fixtureTests()[:1], conversation.Options{})
		if len(eng.sent) != 0 || res.Metrics.TurnsPassed != 0 || !strings.Contains(res.Tests[0].Turns[0].Failures[0], "context canceled") {
			t.Fatalf("result = %+v after %d messages, want nothing played", res, len(eng.sent))
		}
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	m := fixtureResult().Metrics
	tests := []struct {
		name      string
		got, want float64
	}{
		{"OKTests", float64(m.Tests), 4},
		{"OKTestsPassed", float64(m.TestsPassed), 2},
		{"OKTurns", float64(m.Turns), 7},
		{"OKTurnsPassed", float64(m.TurnsPassed), 4},
		// order_status, handoff, shipping_time (wrong), shipping_cost, greet (engine error)
		{"OKIntentTurns", float64(m.IntentTurns), 5},
		{"OKIntentAccuracy", m.IntentAccuracy, 0.6},
		// handoff expected: false/false, true/true, true/false (wrong), true/not played
		{"OKHandoffTurns", float64(m.HandoffTurns), 4},
		{"OKHandoffPrecision", m.HandoffPrecision, 1},
		{"OKHandoffRecall", m.HandoffRecall, 0.3333},
		// six played turns, each 2 ms on the test clock
		{"OKLatencyP50", m.LatencyP50MS, 2},
		{"OKLatencyP95", m.LatencyP95MS, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	t.Run("OKEmpty", func(t *testing.T) {
		t.Parallel()
		m := conversation.Run(context.Background(), newScripted(), nil, conversation.Options{}).Metrics
		if got := fmt.Sprintf("%+v", m); got != fmt.Sprintf("%+v", conversation.Metrics{IntentAccuracy: 1, HandoffPrecision: 1, HandoffRecall: 1}) {
			t.Errorf("empty run metrics = %s", got)
		}
	})
}
