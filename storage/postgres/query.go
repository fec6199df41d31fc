package postgres

import (
	"strings"

	"github.com/tandemhq/tandem/storage"
)

// tsQuery builds a to_tsquery input that ORs the terms of q ("" when q has none). Terms
// hold only letters, digits and marks, so no tsquery operator can come from the input.
func tsQuery(q string) string {
	return strings.Join(storage.QueryTerms(q), " | ")
}
