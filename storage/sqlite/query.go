package sqlite

import (
	"strings"

	"github.com/tandemhq/tandem/storage"
)

// ftsQuery builds an FTS5 MATCH expression that ORs the quoted terms of q, so a question in
// natural language matches documents sharing any word with it; "" when q has no terms.
func ftsQuery(q string) string {
	terms := storage.QueryTerms(q)
	for i, t := range terms {
		terms[i] = `"` + t + `"`
	}
	return strings.Join(terms, " OR ")
}
