package conversation_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/evals/conversation"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	base := fixtureResult()
	// fixed: the wrong test's expectations corrected; broke: handoff now expects no handoff;
	// removed: the engine-error test; added: a new test.
	next := fixtureTests()
	next[1].Turns[0].Expect.Handoff = ptr(false)
	next[2].Turns[0].Expect = conversation.Expect{Intent: "shipping_cost", Cites: "shipping.md"}
	next[3] = conversation.Test{Name: "new", File: "tests/new.yaml", Turns: []conversation.Turn{{User: "A100001"}}}
	newRes := conversation.Run(context.Background(), newScripted(), next, conversation.Options{Now: clock(3 * time.Millisecond)})

	tests := []struct {
		name       string
		base, next conversation.Result
		wantTests  []string // "kind key"
		wantTurns  []string
		regressed  bool
		wantMetric map[string][2]float64
	}{
		{"OKSame", base, base, nil, nil, false, map[string][2]float64{"tests_passed": {2, 2}}},
		{"ErrRegressed", base, newRes,
			[]string{"broke tests/handoff.yaml", "fixed tests/wrong.yaml", "added tests/new.yaml", "removed tests/error.yaml"},
			[]string{"broke tests/handoff.yaml turn 1", "fixed tests/wrong.yaml turn 1"},
			true, map[string][2]float64{"tests_passed": {2, 3}, "intent_accuracy": {0.6, 1}, "handoff_precision": {1, 0}, "handoff_recall": {0.3333, 1}, "latency_p50_ms": {2, 3}}},
		{"OKImproved", newRes, fixtureResult(),
			[]string{"fixed tests/handoff.yaml", "broke tests/wrong.yaml", "added tests/error.yaml", "removed tests/new.yaml"},
			[]string{"fixed tests/handoff.yaml turn 1", "broke tests/wrong.yaml turn 1"},
			true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := conversation.Compare(tt.base, tt.next)
			if got := kinds(d.Tests); strings.Join(got, ",") != strings.Join(tt.wantTests, ",") {
				t.Errorf("tests = %q, want %q", got, tt.wantTests)
			}
			if got := kinds(d.Turns); strings.Join(got, ",") != strings.Join(tt.wantTurns, ",") {
				t.Errorf("turns = %q, want %q", got, tt.wantTurns)
			}
			if d.Regressed() != tt.regressed {
				t.Errorf("regressed = %t, want %t", d.Regressed(), tt.regressed)
			}
			for _, m := range d.Metrics {
				if w, ok := tt.wantMetric[m.Metric]; ok && (m.Base != w[0] || m.New != w[1]) {
					t.Errorf("%s = %v → %v, want %v → %v", m.Metric, m.Base, m.New, w[0], w[1])
				}
				if strings.HasPrefix(m.Metric, "latency") && m.Regressed {
					t.Errorf("%s counted as a regression", m.Metric)
				}
			}
		})
	}
	t.Run("OKWriteDiff", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		if err := conversation.WriteDiff(&b, conversation.Compare(base, newRes)); err != nil {
			t.Fatal(err)
		}
		golden(t, "diff.txt", b.Bytes())
	})
	t.Run("OKWriteDiffJSON", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		if err := conversation.WriteDiffJSON(&b, conversation.Compare(base, newRes)); err != nil {
			t.Fatal(err)
		}
		golden(t, "diff.json", b.Bytes())
		b.Reset()
		if err := conversation.WriteDiffJSON(&b, conversation.Compare(base, base)); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); !strings.Contains(got, `"regressed": false`) || !strings.Contains(got, `"tests": []`) {
			t.Errorf("unchanged run: want regressed false and empty lists, got\n%s", got)
		}
	})
}

func TestDeltaChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    conversation.Delta
		want int
	}{
		{"OKHigherBetter", conversation.Delta{Base: 0.5, New: 0.6}, 1},
		{"OKHigherWorse", conversation.Delta{Base: 0.6, New: 0.5}, -1},
		{"OKLowerBetter", conversation.Delta{Base: 9, New: 3, LowerIsBetter: true}, 1},
		{"OKLowerWorse", conversation.Delta{Base: 3, New: 9, LowerIsBetter: true}, -1},
		{"OKSame", conversation.Delta{Base: 3, New: 3, LowerIsBetter: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.d.Change(); got != tt.want {
				t.Errorf("Change() = %d, want %d", got, tt.want)
			}
		})
	}
}

func kinds(cs []conversation.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Kind+" "+c.Key)
	}
	return out
}
