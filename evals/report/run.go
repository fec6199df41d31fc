package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/evals/conversation"
)

// maxConfusions bounds the list of wrong intents: the most frequent ones say enough.
const maxConfusions = 10

type runPage struct {
	Title      string
	Bot        string
	Failed     bool
	M          conversation.Metrics
	LatencyMax float64
	Files      hbarChart
	Latency    vbarChart
	Tests      []testRow
	Intents    []intentRow
	Confusions []evals.Confusion
	Failures   []failedTest
}

type testRow struct {
	Name, File         string
	Passed             bool
	TurnsPassed, Turns int
}

type intentRow struct {
	Intent         string
	Turns, Correct int
	Accuracy       float64
}

type failedTest struct {
	Name, File string
	Turns      []failedTurn
}

type failedTurn struct {
	Where, User string
	Failures    []string
	// Played is false for a turn skipped after an engine error; it has nothing to show.
	Played     bool
	Intent     string
	Confidence float64
	Decision   string
	Reason     string
	Replies    []string
}

// RunHTML writes r as one HTML page: the summary metrics, a chart of passed and failed turns
// per test file, a turn latency histogram, accuracy per expected intent with the most
// frequent wrong intents, and every failed turn with what was expected and what came.
func RunHTML(w io.Writer, r conversation.Result) error {
	p := runPage{Title: "Conversation tests of bot " + r.Bot, Bot: r.Bot, Failed: r.Failed(), M: r.Metrics}
	var lat []float64
	var files []hbarItem
	fileRow := map[string]int{}
	intents := map[string]*intentRow{}
	var gold, pred []string // of the turns that expect an intent
	for _, t := range r.Tests {
		row := testRow{Name: t.Name, File: t.File, Passed: t.Passed, Turns: len(t.Turns)}
		ft := failedTest{Name: t.Name, File: t.File}
		for _, tu := range t.Turns {
			if tu.Passed {
				row.TurnsPassed++
			} else {
				ft.Turns = append(ft.Turns, failedTurn{Where: t.Where(tu), User: tu.User, Failures: tu.Failures,
					Played: tu.Played && tu.Decision != "", Intent: tu.Intent, Confidence: tu.Confidence,
					Decision: tu.Decision, Reason: tu.Reason, Replies: tu.Replies})
			}
			if tu.Played {
				lat = append(lat, tu.LatencyMS)
				p.LatencyMax = max(p.LatencyMax, tu.LatencyMS)
			}
			if want := tu.Expect.Intent; want != "" {
				ir := intents[want]
				if ir == nil {
					ir = &intentRow{Intent: want}
					intents[want] = ir
				}
				ir.Turns++
				got := ""
				if tu.Played {
					got = tu.Intent
				}
				if got == want {
					ir.Correct++
				}
				gold, pred = append(gold, want), append(pred, got)
			}
		}
		p.Tests = append(p.Tests, row)
		if len(ft.Turns) > 0 {
			p.Failures = append(p.Failures, ft)
		}
		// One bar per test file; tests built in code have no file and go by name.
		key := cmp.Or(t.File, t.Name)
		i, ok := fileRow[key]
		if !ok {
			i = len(files)
			fileRow[key] = i
			files = append(files, hbarItem{Label: key, Parts: []part{{Class: "pass"}, {Class: "fail"}}})
		}
		files[i].Parts[0].N += float64(row.TurnsPassed)
		files[i].Parts[1].N += float64(row.Turns - row.TurnsPassed)
	}
	for i := range files {
		ok, bad := files[i].Parts[0].N, files[i].Parts[1].N
		files[i].Value = fmt.Sprintf("%g/%g", ok, ok+bad)
	}
	p.Files = newHBarChart("Passed and failed turns per test file", files)
	p.Latency = newHistogram("Turn latency histogram", "turn latency (ms)", "ms", lat)
	for _, ir := range intents {
		ir.Accuracy = float64(ir.Correct) / float64(ir.Turns)
		p.Intents = append(p.Intents, *ir)
	}
	slices.SortFunc(p.Intents, func(a, b intentRow) int { return cmp.Compare(a.Intent, b.Intent) })
	p.Confusions = evals.Confusions(gold, pred, maxConfusions)
	return render(w, "run", p)
}
