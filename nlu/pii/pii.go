// Package pii finds and redacts personal data in text: payment card numbers (Luhn-checked),
// national ids (US SSN), phone numbers, email addresses and IBANs (checksum-verified).
package pii

import (
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Kinds of personal data.
const (
	Card       = "card"
	NationalID = "national_id"
	Phone      = "phone"
	Email      = "email"
	IBAN       = "iban"
)

// AllKinds lists every kind, the default for Find and Redact.
var AllKinds = []string{Card, IBAN, Email, NationalID, Phone}

// Found is one piece of personal data in a text.
type Found struct {
	Kind  string
	Text  string
	Start int // byte offsets
	End   int
}

var (
	reEmail = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	reCard  = regexp.MustCompile(`\b\d(?:[ \-]?\d){12,18}\b`)
	reSSN   = regexp.MustCompile(`\b(\d{3})-(\d{2})-(\d{4})\b`)
	reIBAN  = regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`)
	rePhone = regexp.MustCompile(`(?:\+|\b00)?\(?\d[\d\s().\-]{6,18}\d\b`)
)

// Find returns the personal data of the given kinds (all kinds when none are given) in text,
// in order of position, without overlaps. Phone numbers without a country code are parsed for
// region (for example "US"; "" means international numbers only).
func Find(text, region string, kinds ...string) []Found {
	if len(kinds) == 0 {
		kinds = AllKinds
	}
	var out []Found
	taken := func(s, e int) bool {
		for _, f := range out {
			if s < f.End && e > f.Start {
				return true
			}
		}
		return false
	}
	add := func(kind string, s, e int) {
		if !taken(s, e) {
			out = append(out, Found{Kind: kind, Text: text[s:e], Start: s, End: e})
		}
	}
	// Order matters: checksummed kinds claim their spans before the looser phone pattern.
	for _, k := range []string{Email, IBAN, Card, NationalID, Phone} {
		if !slices.Contains(kinds, k) {
			continue
		}
		switch k {
		case Email:
			for _, m := range reEmail.FindAllStringIndex(text, -1) {
				add(Email, m[0], m[1])
			}
		case IBAN:
			for _, m := range reIBAN.FindAllStringIndex(text, -1) {
				if ValidIBAN(text[m[0]:m[1]]) {
					add(IBAN, m[0], m[1])
				}
			}
		case Card:
			for _, m := range reCard.FindAllStringIndex(text, -1) {
				if Luhn(digits(text[m[0]:m[1]])) {
					add(Card, m[0], m[1])
				}
			}
		case NationalID:
			for _, m := range reSSN.FindAllStringSubmatchIndex(text, -1) {
				area, group, serial := text[m[2]:m[3]], text[m[4]:m[5]], text[m[6]:m[7]]
				if area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000" {
					add(NationalID, m[0], m[1])
				}
			}
		case Phone:
			for _, m := range PhoneSpans(text, region) {
				add(Phone, m[0], m[1])
			}
		}
	}
	slices.SortFunc(out, func(a, b Found) int { return a.Start - b.Start })
	return out
}

// PhoneSpans returns the byte spans of valid phone numbers in text.
func PhoneSpans(text, region string) [][2]int {
	var out [][2]int
	for _, m := range rePhone.FindAllStringIndex(text, -1) {
		s := strings.TrimSpace(text[m[0]:m[1]])
		start := m[0] + strings.Index(text[m[0]:m[1]], s)
		if _, ok := ParsePhone(s, region); ok {
			out = append(out, [2]int{start, start + len(s)})
		}
	}
	return out
}

// ParsePhone parses a phone number and returns it in E.164 form when it is valid.
func ParsePhone(s, region string) (string, bool) {
	if region == "" {
		region = "ZZ"
	}
	d := digits(s)
	if len(d) < 7 || len(d) > 15 {
		return "", false
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// Redact replaces personal data of the given kinds (all when none are given) with a
// placeholder such as [CARD] and returns the new text and what it replaced. Phone numbers are
// recognised in international form or as US numbers.
func Redact(text string, kinds ...string) (string, []Found) {
	found := Find(text, "US", kinds...)
	if len(found) == 0 {
		return text, nil
	}
	var b strings.Builder
	last := 0
	for _, f := range found {
		b.WriteString(text[last:f.Start])
		b.WriteString("[" + strings.ToUpper(f.Kind) + "]")
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), found
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Luhn reports whether a string of digits passes the Luhn checksum.
func Luhn(d string) bool {
	if len(d) < 12 {
		return false
	}
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// ValidIBAN reports whether s (spaces allowed) is an IBAN with a valid ISO 13616 checksum.
func ValidIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	r := s[4:] + s[:4]
	var b strings.Builder
	for _, c := range r {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			b.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}
