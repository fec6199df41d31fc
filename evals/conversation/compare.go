package conversation

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Change is one test or turn whose verdict differs between two runs, or that exists in only
// one of them.
type Change struct {
	// Key names the test ("file" or "name") or turn ("file turn n").
	Key string `json:"key"`
	// Kind is fixed (started passing), broke (stopped passing), added or removed.
	Kind string `json:"kind"`
	// Detail gives the new run's failure reasons for a broken turn.
	Detail string `json:"detail,omitempty"`
}

// Change kinds.
const (
	ChangeFixed   = "fixed"
	ChangeBroke   = "broke"
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
)

// Delta is one metric of two runs.
type Delta struct {
	Metric string  `json:"metric"`
	Base   float64 `json:"base"`
	New    float64 `json:"new"`
	// Regressed is true when the metric got worse. Latency never counts as a regression:
	// it varies with the machine.
	Regressed bool `json:"regressed"`
	// LowerIsBetter is true for metrics that improve as they fall (latency), so reports can
	// tell a better value from a worse one.
	LowerIsBetter bool `json:"lower_is_better,omitempty"`
}

// Change returns how the metric moved: 1 better, -1 worse, 0 unchanged.
func (m Delta) Change() int {
	switch {
	case m.New == m.Base:
		return 0
	case (m.New > m.Base) != m.LowerIsBetter:
		return 1
	default:
		return -1
	}
}

// Diff is what changed from a base run to a new one.
type Diff struct {
	Tests   []Change `json:"tests"`
	Turns   []Change `json:"turns"`
	Metrics []Delta  `json:"metrics"`
}

// Regressed reports whether a test or turn stopped passing, a test was removed, or a
// quality metric dropped.
func (d Diff) Regressed() bool {
	for _, cs := range [][]Change{d.Tests, d.Turns} {
		for _, c := range cs {
			if c.Kind == ChangeBroke || c.Kind == ChangeRemoved {
				return true
			}
		}
	}
	for _, m := range d.Metrics {
		if m.Regressed {
			return true
		}
	}
	return false
}

func testKey(t TestResult) string {
	if t.File != "" {
		return t.File
	}
	return t.Name
}

// Compare lists what changed from base to next: tests and turns (matched by file, or by
// name when there is none, and turn position) that started or stopped passing or appeared
// or disappeared, and every metric's values.
func Compare(base, next Result) Diff {
	var d Diff
	old := make(map[string]TestResult, len(base.Tests))
	for _, t := range base.Tests {
		old[testKey(t)] = t
	}
	seen := map[string]bool{}
	for _, t := range next.Tests {
		k := testKey(t)
		seen[k] = true
		b, ok := old[k]
		switch {
		case !ok:
			d.Tests = append(d.Tests, Change{Key: k, Kind: ChangeAdded})
			continue
		case b.Passed && !t.Passed:
			d.Tests = append(d.Tests, Change{Key: k, Kind: ChangeBroke})
		case !b.Passed && t.Passed:
			d.Tests = append(d.Tests, Change{Key: k, Kind: ChangeFixed})
		}
		for i, tu := range t.Turns {
			tk := fmt.Sprintf("%s turn %d", k, i+1)
			switch {
			case i >= len(b.Turns):
				d.Turns = append(d.Turns, Change{Key: tk, Kind: ChangeAdded})
			case b.Turns[i].Passed && !tu.Passed:
				d.Turns = append(d.Turns, Change{Key: tk, Kind: ChangeBroke, Detail: strings.Join(tu.Failures, "; ")})
			case !b.Turns[i].Passed && tu.Passed:
				d.Turns = append(d.Turns, Change{Key: tk, Kind: ChangeFixed})
			}
		}
		for i := len(t.Turns); i < len(b.Turns); i++ {
			d.Turns = append(d.Turns, Change{Key: fmt.Sprintf("%s turn %d", k, i+1), Kind: ChangeRemoved})
		}
	}
	for _, t := range base.Tests {
		if !seen[testKey(t)] {
			d.Tests = append(d.Tests, Change{Key: testKey(t), Kind: ChangeRemoved})
		}
	}
	bm, nm := base.Metrics, next.Metrics
	for _, m := range []struct {
		name      string
		base, new float64
		quality   bool
	}{
		{"tests_passed", float64(bm.TestsPassed), float64(nm.TestsPassed), true},
		{"turns_passed", float64(bm.TurnsPassed), float64(nm.TurnsPassed), true},
		{"intent_accuracy", bm.IntentAccuracy, nm.IntentAccuracy, true},
		{"handoff_precision", bm.HandoffPrecision, nm.HandoffPrecision, true},
		{"handoff_recall", bm.HandoffRecall, nm.HandoffRecall, true},
		{"latency_p50_ms", bm.LatencyP50MS, nm.LatencyP50MS, false},
		{"latency_p95_ms", bm.LatencyP95MS, nm.LatencyP95MS, false},
	} {
		d.Metrics = append(d.Metrics, Delta{Metric: m.name, Base: m.base, New: m.new,
			Regressed: m.quality && m.new < m.base, LowerIsBetter: !m.quality})
	}
	return d
}

// WriteDiff writes d for the terminal: changed tests and turns, then every metric with its
// delta, regressions marked.
func WriteDiff(w io.Writer, d Diff) error {
	var b strings.Builder
	if len(d.Tests)+len(d.Turns) == 0 {
		b.WriteString("no test or turn changed its verdict\n")
	}
	for _, c := range d.Tests {
		fmt.Fprintf(&b, "test %-7s %s\n", c.Kind, c.Key)
	}
	for _, c := range d.Turns {
		fmt.Fprintf(&b, "turn %-7s %s", c.Kind, c.Key)
		if c.Detail != "" {
			fmt.Fprintf(&b, ": %s", c.Detail)
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for _, m := range d.Metrics {
		mark := ""
		if m.Regressed {
			mark = "  REGRESSED"
		}
		fmt.Fprintf(&b, "%-18s %10.4g → %-10.4g (%+.4g)%s\n", m.Metric, m.Base, m.New, m.New-m.Base, mark)
	}
	if d.Regressed() {
		b.WriteString("\nregressed\n")
	} else {
		b.WriteString("\nno regression\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteDiffJSON writes d as indented JSON with a top-level "regressed" verdict, for tools
// that gate on a comparison.
func WriteDiffJSON(w io.Writer, d Diff) error {
	// Empty lists, not null, so consumers can iterate without a check.
	for _, cs := range []*[]Change{&d.Tests, &d.Turns} {
		if *cs == nil {
			*cs = []Change{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Regressed bool `json:"regressed"`
		Diff
	}{d.Regressed(), d}); err != nil {
		return fmt.Errorf("write json diff: %w", err)
	}
	return nil
}
