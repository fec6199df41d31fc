package storage

import (
	"strings"
	"unicode"
)

// MaxQueryTerms bounds the full-text query a single search builds.
const MaxQueryTerms = 64

// QueryTerms splits outside input into full-text search terms: runs of letters, digits and
// marks, lower-cased, de-duplicated, at most MaxQueryTerms. Everything else (FTS5 and
// tsquery syntax included) separates terms, so adapters can quote and join them safely.
func QueryTerms(q string) []string {
	var terms []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(q, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
	}) {
		f = strings.ToLower(f)
		if seen[f] {
			continue
		}
		seen[f] = true
		terms = append(terms, f)
		if len(terms) == MaxQueryTerms {
			break
		}
	}
	return terms
}
