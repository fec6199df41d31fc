package conversation

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WriteText writes a terminal report: a line per failed turn with its reasons and what the
// bot did, then a summary of the metrics.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	for _, t := range r.Tests {
		if t.Passed {
			fmt.Fprintf(&b, "PASS %s (%s)\n", t.Name, t.File)
			continue
		}
		fmt.Fprintf(&b, "FAIL %s (%s)\n", t.Name, t.File)
		for _, tu := range t.Turns {
			if tu.Passed {
				continue
			}
			fmt.Fprintf(&b, "  %s %q: %s\n", t.Where(tu), tu.User, strings.Join(tu.Failures, "; "))
			if tu.Played && tu.Decision != "" {
				fmt.Fprintf(&b, "    got intent %s %.2f, decision %s (%s), replies %q\n",
					orNone(tu.Intent), tu.Confidence, tu.Decision, tu.Reason, strings.Join(tu.Replies, replySeparator))
			}
		}
	}
	m := r.Metrics
	fmt.Fprintf(&b, "\nbot %s: %d/%d tests passed, %d/%d turns passed\n", r.Bot, m.TestsPassed, m.Tests, m.TurnsPassed, m.Turns)
	fmt.Fprintf(&b, "intent accuracy %.3f over %d turns · handoff precision %.3f recall %.3f over %d turns · turn latency p50 %.1f ms p95 %.1f ms\n",
		m.IntentAccuracy, m.IntentTurns, m.HandoffPrecision, m.HandoffRecall, m.HandoffTurns, m.LatencyP50MS, m.LatencyP95MS)
	_, err := io.WriteString(w, b.String())
	return err
}

// Where names a turn of t as "file:line turn n" when the file is known, else "turn n".
func (t TestResult) Where(tu TurnResult) string {
	if t.File != "" && tu.Line > 0 {
		return fmt.Sprintf("%s:%d turn %d", t.File, tu.Line, tu.Index+1)
	}
	return fmt.Sprintf("turn %d", tu.Index+1)
}

// WriteJSON writes r as indented JSON with snake_case field names; ReadJSON reads it back.
func WriteJSON(w io.Writer, r Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(rd io.Reader) (Result, error) {
	var r Result
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Result{}, fmt.Errorf("read json report: %w", err)
	}
	return r, nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes r as JUnit XML for CI systems: one testsuite for the bot, one testcase
// per conversation test, a failure listing each failed turn's reasons, and the metrics as
// suite properties.
func WriteJUnit(w io.Writer, r Result) error {
	s := junitSuite{Name: "tandem.eval." + r.Bot, Tests: len(r.Tests)}
	var total float64
	for _, t := range r.Tests {
		var ms float64
		var lines []string
		failed := 0
		for _, tu := range t.Turns {
			ms += tu.LatencyMS
			if !tu.Passed {
				failed++
				lines = append(lines, fmt.Sprintf("%s %q: %s", t.Where(tu), tu.User, strings.Join(tu.Failures, "; ")))
			}
		}
		total += ms
		c := junitCase{Name: t.Name, Classname: "tandem.eval." + r.Bot, File: t.File, Time: seconds(ms)}
		if !t.Passed {
			s.Failures++
			c.Failure = &junitFailure{Type: "expectation", Text: strings.Join(lines, "\n"),
				Message: fmt.Sprintf("%d of %d turns failed", failed, len(t.Turns))}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	m := r.Metrics
	for _, p := range [][2]string{
		{"tests_passed", fmt.Sprint(m.TestsPassed)}, {"turns", fmt.Sprint(m.Turns)}, {"turns_passed", fmt.Sprint(m.TurnsPassed)},
		{"intent_accuracy", fmt.Sprint(m.IntentAccuracy)}, {"handoff_precision", fmt.Sprint(m.HandoffPrecision)},
		{"handoff_recall", fmt.Sprint(m.HandoffRecall)}, {"latency_p50_ms", fmt.Sprint(m.LatencyP50MS)},
		{"latency_p95_ms", fmt.Sprint(m.LatencyP95MS)},
	} {
		s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: p[1]})
	}
	doc := junitSuites{Name: "tandem eval run", Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s%s\n", xml.Header, out); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }
