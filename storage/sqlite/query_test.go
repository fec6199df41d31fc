package sqlite

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestFTSQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"OK", "How do I get a refund?", `"how" OR "do" OR "i" OR "get" OR "a" OR "refund"`},
		{"Syntax", `refund" OR title:x* NEAR(a b) ^c -d`, `"refund" OR "or" OR "title" OR "x" OR "near" OR "a" OR "b" OR "c" OR "d"`},
		{"Dedupe", "Refund refund REFUND", `"refund"`},
		{"Unicode", "返金 réfund", `"返金" OR "réfund"`},
		{"Empty", ` "*() `, ``},
	}
	for _, tt := range tests {
		if got := ftsQuery(tt.in); got != tt.want {
			t.Errorf("%s: ftsQuery(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// FuzzFTSQuery checks that no input yields an unsafe MATCH expression or an SQL error.
func FuzzFTSQuery(f *testing.F) {
	for _, s := range []string{"refund", `"`, "a OR b", "NEAR(a b)", "x:*", "返金", "\xff\x00", "(((", "-a +b ^c"} {
		f.Add(s)
	}
	s, err := Open(context.Background(), ":memory:", Config{Migrate: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "c"}); err != nil {
		f.Fatal(err)
	}
	if _, err := s.PutDocument(ctx, &tandem.Document{Collection: "c", Title: "Refund", ContentHash: "h"}, []tandem.Chunk{{Text: "refund within 30 days"}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		m := ftsQuery(q)
		for _, term := range strings.Split(m, " OR ") {
			if m == "" {
				break
			}
			inner := strings.TrimSuffix(strings.TrimPrefix(term, `"`), `"`)
			if len(inner)+2 != len(term) || inner == "" {
				t.Fatalf("ftsQuery(%q) = %q: bad term %q", q, m, term)
			}
			for _, r := range inner {
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
					t.Fatalf("ftsQuery(%q) = %q: rune %q in term", q, m, r)
				}
			}
		}
		if _, err := s.SearchText(ctx, q, storage.SearchFilter{}); err != nil {
			t.Fatalf("SearchText(%q): %v", q, err)
		}
	})
}
