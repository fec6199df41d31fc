package entity

import (
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

func setup(t *testing.T) *Extractor {
	t.Helper()
	// Wednesday 2026-11-25, 10:00 UTC.
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e, err := New(Config{
		Patterns: map[string]string{"order_number": `\bA\d{6}\b`},
		Lists: []List{{Name: "city", Values: map[string][]string{
			"New York":      {"nyc", "new york city", "big apple"},
			"San Francisco": {"sf", "frisco"},
			"東京":            {"とうきょう", "tokyo"},
		}}},
		Region: "US",
		Now:    func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExtract(t *testing.T) {
	t.Parallel()
	e := setup(t)
	type ent struct{ typ, value, text string }
	tests := []struct {
		name string
		text string
		want []ent
	}{
		{"OK/email", "mail me at Bob@Example.com", []ent{{"email", "bob@example.com", "Bob@Example.com"}}},
		{"OK/phone", "call 415-555-2671", []ent{{"phone", "+14155552671", "415-555-2671"}}},
		{"OK/phoneIntl", "ring +44 20 7946 0958", []ent{{"phone", "+442079460958", "+44 20 7946 0958"}}},
		{"OK/order", "where is order A123456?", []ent{{"order_number", "A123456", "A123456"}}},
		{"OK/money", "refund $12.50 please", []ent{{"money", "12.50 USD", "$12.50"}}},
		{"OK/moneyWords", "it cost 30 euros", []ent{{"money", "30.00 EUR", "30 euros"}}},
		{"OK/tomorrow", "can you come tomorrow", []ent{{"date", "2026-11-26", "tomorrow"}}},
		{"OK/nextFriday", "next Friday works", []ent{{"date", "2026-11-27", "next Friday"}}},
		{"OK/nextWednesday", "next wednesday", []ent{{"date", "2026-12-02", "next wednesday"}}},
		{"OK/inDays", "in 3 days", []ent{{"date", "2026-11-28", "in 3 days"}}},
		{"OK/iso", "on 2027-01-05", []ent{{"date", "2027-01-05", "2027-01-05"}}},
		{"OK/monthDay", "May 3rd, 2027", []ent{{"date", "2027-05-03", "May 3rd, 2027"}}},
		{"OK/dayMonth", "the 4th of July", []ent{{"date", "2026-07-04", "4th of July"}}},
		{"OK/time", "at 3:30pm", []ent{{"time", "15:30", "3:30pm"}}},
		{"OK/time24", "at 18:05", []ent{{"time", "18:05", "18:05"}}},
		{"OK/number", "I need 2 tickets", []ent{{"number", "2", "2"}}},
		{"OK/list", "flying to the big apple", []ent{{"city", "New York", "big apple"}}},
		{"OK/listFuzzy", "from San Fransisco", []ent{{"city", "San Francisco", "San Fransisco"}}},
		{"OK/listJapanese", "東京に行きたい", []ent{{"city", "東京", "東京"}}},
		{"OK/japaneseDate", "明日は雨ですか", []ent{{"date", "2026-11-26", "明日"}}},
		{"OK/japaneseTime", "午後7時半に", []ent{{"time", "19:30", "午後7時半"}}},
		{"OK/none", "hello there", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := e.Extract(tt.text)
			if len(got) != len(tt.want) {
				t.Fatalf("Extract(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Type != w.typ || g.Value != w.value || g.Text != w.text || tt.text[g.Start:g.End] != g.Text {
					t.Errorf("entity %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestNewErrInvalidPattern(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Patterns: map[string]string{"bad": `(`}})
	if tandem.ErrorCode(err) != tandem.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("call 415-555-2671 tomorrow at 3pm about A123456, $20")
	f.Fuzz(func(t *testing.T, s string) {
		e, _ := New(Config{Patterns: map[string]string{"order": `A\d+`}})
		for _, x := range e.Extract(s) {
			if x.Start < 0 || x.End > len(s) || s[x.Start:x.End] != x.Text {
				t.Fatalf("bad span %+v", x)
			}
		}
	})
}

func TestExtractSkipsCardNumbers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	got := e.Extract("card 4111 1111 1111 1111 for 2 items")
	if len(got) != 1 || got[0].Type != "number" || got[0].Value != "2" {
		t.Errorf("got %+v, want only the number 2", got)
	}
}
