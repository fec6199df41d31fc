// Package report renders evaluation results as self-contained HTML pages: inline CSS and
// inline SVG charts drawn here, no script and no external asset, so a CI artifact opens in
// any browser, offline. Every text from test files and datasets goes through html/template,
// so it is escaped.
//
// The terminal, JSON and JUnit formats of conversation runs stay beside the runner in
// evals/conversation: the JSON is also an input (`tandem eval compare` reads it back), the
// text format shares the runner's wording of a turn, and moving them would only rename
// what callers use. HTML is output only and also renders the dataset evals (package evals),
// so it sits here, above both.
package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"unicode/utf8"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("report").Funcs(template.FuncMap{
	"f3":     func(x float64) string { return fmt.Sprintf("%.3f", x) },
	"ms":     func(x float64) string { return fmt.Sprintf("%.1f ms", x) },
	"num":    func(x float64) string { return fmt.Sprintf("%.4g", x) },
	"signed": func(x float64) string { return fmt.Sprintf("%+.4g", x) },
	"none":   orNone,
}).ParseFS(templateFS, "templates/*.html"))

// render executes the named page into w, whole or not at all.
func render(w io.Writer, name string, data any) error {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("render %s report: %w", name, err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write %s report: %w", name, err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Chart geometry, in SVG user units (pixels at 100% zoom).
const (
	chartWidth = 760
	labelWidth = 300 // left column of a horizontal bar chart
	barSpace   = 380 // longest bar
	rowHeight  = 22
	barHeight  = 14
	maxLabel   = 42 // runes of a label before it is cut; the full text is the bar's tooltip
)

// hbarChart is a horizontal bar chart, one row per item, each bar made of segments.
type hbarChart struct {
	Label         string // the chart's accessible name
	Width, Height int
	Rows          []hbarRow
}

type hbarRow struct {
	Label, Title string // Label may be cut; Title is the full text
	LabelX       int
	TextY        float64
	Segs         []segment
	Value        string
	ValueX       float64
}

type segment struct {
	X, Y, W, H float64
	Class      string
}

// hbarItem is one row to draw: its parts in order (value and CSS class) and the text shown
// after the bar.
type hbarItem struct {
	Label string
	Parts []part
	Value string
}

type part struct {
	N     float64
	Class string
}

// newHBarChart lays out items on one scale, the largest total filling barSpace.
func newHBarChart(label string, items []hbarItem) hbarChart {
	var top float64
	for _, it := range items {
		var sum float64
		for _, p := range it.Parts {
			sum += p.N
		}
		top = max(top, sum)
	}
	c := hbarChart{Label: label, Width: chartWidth, Height: len(items)*rowHeight + 8}
	for i, it := range items {
		y := float64(4 + i*rowHeight)
		r := hbarRow{Label: cut(it.Label, maxLabel), Title: it.Label, LabelX: labelWidth - 8,
			TextY: y + barHeight - 3, Value: it.Value}
		x := float64(labelWidth)
		for _, p := range it.Parts {
			if p.N <= 0 || top == 0 {
				continue
			}
			w := round1(p.N / top * barSpace)
			r.Segs = append(r.Segs, segment{X: round1(x), Y: y, W: w, H: barHeight, Class: p.Class})
			x += w
		}
		r.ValueX = round1(x + 6)
		c.Rows = append(c.Rows, r)
	}
	return c
}

// vbarChart is a histogram: vertical bars over labelled bins on a baseline.
type vbarChart struct {
	Label         string
	Width, Height int
	BaseY         float64
	Bars          []vbar
	Axis          string // the x axis' caption
	AxisY         float64
}

type vbar struct {
	X, Y, W, H   float64
	Count        int
	Label, Title string
	MidX, CountY float64
	LabelY       float64
}

// Histogram geometry.
const (
	histHeight = 220
	histPlot   = 160 // tallest bar
	histTop    = 20  // room for the count above the tallest bar
	histBins   = 10
)

// newHistogram bins xs (non-negative) into at most histBins bins of a round width.
func newHistogram(label, axis, unit string, xs []float64) vbarChart {
	c := vbarChart{Label: label, Width: chartWidth, Height: histHeight, BaseY: histTop + histPlot,
		Axis: axis, AxisY: histHeight - 4}
	if len(xs) == 0 {
		return c
	}
	top := 0.0
	for _, x := range xs {
		top = max(top, x)
	}
	step := niceStep(top / histBins)
	// Bins are [lo, hi) but the last one holds top too; the epsilon keeps a rounding error
	// from adding an empty bin.
	n := max(1, int(math.Ceil(top/step-1e-9)))
	counts := make([]int, n)
	for _, x := range xs {
		counts[min(int(x/step), n-1)]++
	}
	most := 0
	for _, k := range counts {
		most = max(most, k)
	}
	slot := float64(chartWidth-40) / float64(n)
	for i, k := range counts {
		h := round1(float64(k) / float64(most) * histPlot)
		x := round1(20 + float64(i)*slot + slot*0.1)
		lo, hi := float64(i)*step, float64(i+1)*step
		b := vbar{X: x, W: round1(slot * 0.8), Y: round1(c.BaseY - h), H: h, Count: k,
			Label: fmt.Sprintf("%.4g–%.4g", lo, hi), MidX: round1(x + slot*0.4),
			Title: fmt.Sprintf("%d between %.4g and %.4g %s", k, lo, hi, unit)}
		b.CountY, b.LabelY = round1(b.Y-5), c.BaseY+16
		c.Bars = append(c.Bars, b)
	}
	return c
}

// niceStep returns the smallest 1, 2 or 5 times a power of ten that is at least x.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// cut shortens s to n runes, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
