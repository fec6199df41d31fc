package postgres

import (
	"strings"
	"unicode"
)

// maxQueryTerms bounds the FTS query a single search builds.
const maxQueryTerms = 64

// queryTerms splits outside input into search terms: runs of letters, digits and marks,
// lower-cased, de-duplicated, at most maxQueryTerms. Everything else (FTS5 syntax
// included) separates terms, so the result is safe to quote.
func queryTerms(q string) []string {
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
		if len(terms) == maxQueryTerms {
			break
		}
	}
	return terms
}

// tsQuery builds a to_tsquery input that ORs the terms of q ("" when q has none). Terms
// hold only letters, digits and marks, so no tsquery operator can come from the input.
func tsQuery(q string) string {
	return strings.Join(queryTerms(q), " | ")
}
