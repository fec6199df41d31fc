package ingest

import (
	"strings"

	"github.com/tmc/langchaingo/textsplitter"
)

// Piece is one chunk of a source before embedding.
type Piece struct {
	Heading string // the section's heading path ("Returns > Refunds"), or the FAQ question
	Text    string
}

// Splitter cuts sources into pieces.
type Splitter struct {
	// ChunkSize is the largest piece in characters (runes). Default 1200.
	ChunkSize int
	// ChunkOverlap is how many characters consecutive pieces of one long section share.
	// Default 150.
	ChunkOverlap int
}

func (sp Splitter) withDefaults() Splitter {
	if sp.ChunkSize <= 0 {
		sp.ChunkSize = 1200
	}
	if sp.ChunkOverlap <= 0 || sp.ChunkOverlap >= sp.ChunkSize {
		sp.ChunkOverlap = min(150, sp.ChunkSize/4)
	}
	return sp
}

func runeLen(s string) int { return len([]rune(s)) }

// Split returns the pieces of src: one per FAQ pair, one or more per Markdown section
// (headings kept with their sections), and overlapping windows of plain text.
func (sp Splitter) Split(src Source) ([]Piece, error) {
	sp = sp.withDefaults()
	body := strings.TrimSpace(src.Body)
	switch {
	case body == "":
		return []Piece{{Heading: src.Title, Text: src.Title}}, nil
	case src.Kind == KindFAQ:
		// An FAQ pair is kept whole however long: splitting an answer from its question
		// loses what it answers.
		return []Piece{{Heading: src.Title, Text: body}}, nil
	case src.Kind == KindMarkdown:
		return sp.splitMarkdown(body)
	default:
		return sp.splitText(body, "")
	}
}

func (sp Splitter) recursive() textsplitter.RecursiveCharacter {
	return textsplitter.NewRecursiveCharacter(
		textsplitter.WithChunkSize(sp.ChunkSize),
		textsplitter.WithChunkOverlap(sp.ChunkOverlap),
		textsplitter.WithSeparators([]string{"\n\n", "\n", "。", ". ", "! ", "? ", " ", ""}),
		textsplitter.WithLenFunc(runeLen),
	)
}

func (sp Splitter) splitText(text, heading string) ([]Piece, error) {
	if runeLen(text) <= sp.ChunkSize {
		return []Piece{{Heading: heading, Text: text}}, nil
	}
	parts, err := sp.recursive().SplitText(text)
	if err != nil {
		return nil, err
	}
	out := make([]Piece, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, Piece{Heading: heading, Text: p})
		}
	}
	return out, nil
}

// splitMarkdown cuts at headings (outside fenced code) and keeps each heading path with the
// text under it; long sections are split further by langchaingo's recursive splitter.
func (sp Splitter) splitMarkdown(body string) ([]Piece, error) {
	type section struct {
		path []string
		text strings.Builder
	}
	var (
		sections []*section
		stack    []string
		fenced   bool
	)
	cur := &section{}
	sections = append(sections, cur)
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fenced = !fenced
		}
		if level, title, ok := markdownHeading(trimmed); ok && !fenced {
			for len(stack) >= level {
				stack = stack[:len(stack)-1]
			}
			for len(stack) < level-1 {
				stack = append(stack, "")
			}
			stack = append(stack, title)
			cur = &section{path: compact(stack)}
			sections = append(sections, cur)
			continue
		}
		cur.text.WriteString(line)
		cur.text.WriteByte('\n')
	}
	var out []Piece
	for _, s := range sections {
		text := strings.TrimSpace(s.text.String())
		heading := strings.Join(s.path, " > ")
		if text == "" {
			continue
		}
		ps, err := sp.splitText(text, heading)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	if len(out) == 0 {
		out = append(out, Piece{Text: body})
	}
	return out, nil
}

func compact(path []string) []string {
	out := make([]string, 0, len(path))
	for _, p := range path {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// markdownHeading parses an ATX heading ("## Title").
func markdownHeading(line string) (level int, title string, ok bool) {
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (len(line) > level && line[level] != ' ' && line[level] != '\t') {
		return 0, "", false
	}
	title = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[level:]), "#"))
	return level, title, title != ""
}
