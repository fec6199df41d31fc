package sqlite

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

// ftsQuery builds an FTS5 MATCH expression that ORs the quoted terms of q, so a question in
// natural language matches documents sharing any word with it; "" when q has no terms.
func ftsQuery(q string) string {
	terms := queryTerms(q)
	for i, t := range terms {
		terms[i] = `"` + t + `"`
	}
	return strings.Join(terms, " OR ")
}
