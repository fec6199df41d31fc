package retrieval

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode"

	"github.com/tandemhq/tandem"
)

// Glossary maps terms to their synonyms and translations so a customer asking in Japanese
// finds English articles and vice versa without an online model. Editors keep it as a text
// file: one group of equivalent terms per line, separated by "=" or ",", "#" starts a
// comment:
//
//	# shipping
//	shipping, delivery = 配送, 発送, 届く
//	refund = 返金 = 払い戻し
//
// A Glossary is read-only after loading and safe for concurrent use. A nil Glossary expands
// nothing.
type Glossary struct {
	groups [][]string // lower-cased terms
}

// ParseGlossary reads the glossary format.
func ParseGlossary(r io.Reader) (*Glossary, error) {
	g := &Glossary{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.Index(text, "#"); i >= 0 {
			text = text[:i]
		}
		var group []string
		for _, t := range strings.FieldsFunc(text, func(r rune) bool { return r == '=' || r == ',' || r == '、' || r == '|' }) {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				group = append(group, t)
			}
		}
		switch len(group) {
		case 0:
		case 1:
			return nil, tandem.Errorf(tandem.EINVALID, "glossary line %d: a group needs at least two terms", line)
		default:
			g.groups = append(g.groups, group)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read glossary: %w", err)
	}
	return g, nil
}

// NewGlossary builds a glossary from groups of equivalent terms (the bot definition's
// glossary.yaml `terms: [[a, b, c], ...]`). Empty terms are ignored; a group needs two.
func NewGlossary(groups [][]string) (*Glossary, error) {
	g := &Glossary{}
	for i, grp := range groups {
		var terms []string
		for _, t := range grp {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				terms = append(terms, t)
			}
		}
		if len(terms) < 2 {
			return nil, tandem.Errorf(tandem.EINVALID, "glossary group %d: a group needs at least two terms", i+1)
		}
		g.groups = append(g.groups, terms)
	}
	return g, nil
}

// LoadGlossary reads a glossary file.
func LoadGlossary(path string) (*Glossary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open glossary: %w", err)
	}
	defer f.Close()
	return ParseGlossary(f)
}

// Len is the number of term groups.
func (g *Glossary) Len() int {
	if g == nil {
		return 0
	}
	return len(g.groups)
}

// Expand returns query followed by the equivalents of every glossary term it contains.
func (g *Glossary) Expand(query string) string {
	if g == nil || len(g.groups) == 0 {
		return query
	}
	lower := strings.ToLower(query)
	var extra []string
	for _, group := range g.groups {
		hit := ""
		for _, t := range group {
			if containsTerm(lower, t) {
				hit = t
				break
			}
		}
		if hit == "" {
			continue
		}
		for _, t := range group {
			if t != hit && !containsTerm(lower, t) {
				extra = append(extra, t)
			}
		}
	}
	if len(extra) == 0 {
		return query
	}
	return query + " " + strings.Join(extra, " ")
}

// containsTerm matches Latin-script terms on word boundaries and other scripts (which are
// written without spaces) as substrings.
func containsTerm(s, term string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], term)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(term)
		before, after := rune(' '), rune(' ')
		if i > 0 {
			before = lastRune(s[:i])
		}
		if end < len(s) {
			after = []rune(s[end:])[0]
		}
		first, last := []rune(term)[0], lastRune(term)
		if (!isWordRune(first) || !isWordRune(before)) && (!isWordRune(last) || !isWordRune(after)) {
			return true
		}
		off = i + 1
	}
}

// isWordRune is true for letters and digits of scripts that separate words with spaces.
func isWordRune(r rune) bool {
	if r > 0x2E80 && !unicode.Is(unicode.Hangul, r) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func lastRune(s string) rune {
	rs := []rune(s)
	return rs[len(rs)-1]
}

func sqrt(x float64) float64 { return math.Sqrt(x) }
