package pii

import (
	"slices"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		kinds []string
		want  string
		found []string
	}{
		{"OK/card", "my card is 4111 1111 1111 1111 thanks", nil, "my card is [CARD] thanks", []string{Card}},
		{"OK/cardDashes", "4111-1111-1111-1111", nil, "[CARD]", []string{Card}},
		{"OK/badLuhnKept", "ref 4111 1111 1111 1112", []string{Card}, "ref 4111 1111 1111 1112", nil},
		{"OK/ssn", "SSN 123-45-6789.", nil, "SSN [NATIONAL_ID].", []string{NationalID}},
		{"OK/invalidSSN", "000-12-3456", []string{NationalID}, "000-12-3456", nil},
		{"OK/email", "write to Ann.Lee+x@example.co.uk now", nil, "write to [EMAIL] now", []string{Email}},
		{"OK/phoneIntl", "call +44 20 7946 0958", nil, "call [PHONE]", []string{Phone}},
		{"OK/phoneUS", "call (415) 555-2671 today", nil, "call [PHONE] today", []string{Phone}},
		{"OK/iban", "IBAN DE89 3704 0044 0532 0130 00 ok", nil, "IBAN [IBAN] ok", []string{IBAN}},
		{"OK/badIBAN", "DE89 3704 0044 0532 0130 01", []string{IBAN}, "DE89 3704 0044 0532 0130 01", nil},
		{"OK/onlyEmail", "a@b.io 4111111111111111", []string{Email}, "[EMAIL] 4111111111111111", []string{Email}},
		{"OK/none", "order A123456 is late", nil, "order A123456 is late", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, found := Redact(tt.text, tt.kinds...)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
			var kinds []string
			for _, f := range found {
				kinds = append(kinds, f.Kind)
				if tt.text[f.Start:f.End] != f.Text {
					t.Errorf("span %d:%d = %q, want %q", f.Start, f.End, tt.text[f.Start:f.End], f.Text)
				}
			}
			if !slices.Equal(kinds, tt.found) {
				t.Errorf("kinds = %v, want %v", kinds, tt.found)
			}
		})
	}
}

func TestParsePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, region, want string
		ok               bool
	}{
		{"(415) 555-2671", "US", "+14155552671", true},
		{"+33 1 42 68 53 00", "US", "+33142685300", true},
		{"020 7946 0958", "GB", "+442079460958", true},
		{"12345", "US", "", false},
	}
	for _, tt := range tests {
		got, ok := ParsePhone(tt.in, tt.region)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParsePhone(%q, %q) = %q, %v; want %q, %v", tt.in, tt.region, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("card 4111 1111 1111 1111, mail a@b.co, +1 415 555 2671, DE89370400440532013000")
	f.Fuzz(func(t *testing.T, s string) {
		out, found := Redact(s)
		for _, x := range found {
			if x.Start < 0 || x.End > len(s) || x.Start >= x.End {
				t.Fatalf("bad span %+v", x)
			}
		}
		if len(found) == 0 && out != s {
			t.Fatalf("text changed without findings")
		}
	})
}
