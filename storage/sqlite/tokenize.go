package sqlite

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The in-memory full-text index tokenises like the FTS5 "porter unicode61" tokenizer it
// replaced, so rankings stay the same: runs of letters, digits and marks (the characters
// storage.QueryTerms keeps, so every query term is exactly one token), lower-cased, Latin
// letters with one diacritic folded to their base letter (unicode61's remove_diacritics=1),
// then FTS5's Porter stemmer. Scripts without spaces (Japanese, Chinese) give one token per
// run between punctuation, as unicode61 does.

// isTokenRune reports whether r belongs to a token (the same test as storage.QueryTerms).
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isDiacritic reports whether r is a combining diacritical mark unicode61 removes.
func isDiacritic(r rune) bool { return r >= 0x300 && r <= 0x36f }

// baseLetter returns the ASCII letter r decomposes to when it is that letter with a single
// combining diacritic (é → e), else r.
func baseLetter(r rune) rune {
	if r < 0xc0 || r > 0x24f && (r < 0x1e00 || r > 0x1eff) {
		return r
	}
	var buf [8]byte
	d := norm.NFD.AppendString(buf[:0], string(r))
	base, n := utf8.DecodeRune(d)
	mark, m := utf8.DecodeRune(d[n:])
	if base >= 0x80 || !unicode.IsLetter(base) || n+m != len(d) || !isDiacritic(mark) {
		return r
	}
	return base
}

// foldTable holds baseLetter for the Latin ranges, computed once.
var foldTable = func() map[rune]rune {
	m := map[rune]rune{}
	for _, rg := range [][2]rune{{0xc0, 0x24f}, {0x1e00, 0x1eff}} {
		for r := rg[0]; r <= rg[1]; r++ {
			if b := baseLetter(r); b != r {
				m[r] = b
			}
		}
	}
	return m
}()

// tokenize calls fn with every token of s, normalised and stemmed. The token's bytes are
// only valid during the call.
func tokenize(s string, fn func(tok []byte)) {
	var buf [maxStemToken + 8]byte
	tok := buf[:0]
	flush := func() {
		if len(tok) > 0 {
			fn(stem(tok))
			tok = tok[:0]
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				tok = append(tok, c)
			case 'A' <= c && c <= 'Z':
				tok = append(tok, c+'a'-'A')
			default:
				flush()
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !isTokenRune(r) {
			flush()
			continue
		}
		r = unicode.ToLower(r)
		if isDiacritic(r) {
			continue
		}
		if b, ok := foldTable[r]; ok {
			r = b
		}
		tok = utf8.AppendRune(tok, r)
	}
	flush()
}

// normalizeTerm returns the index token of one query term (from storage.QueryTerms), or ""
// when nothing of it is indexed.
func normalizeTerm(t string) string {
	var out string
	tokenize(t, func(tok []byte) {
		if out == "" {
			out = string(tok)
		}
	})
	return out
}

// The Porter stemmer as FTS5 implements it: it works on bytes (any non-ASCII byte is a
// consonant), leaves tokens shorter than 3 or longer than maxStemToken bytes alone, and each
// step applies the first listed rule whose suffix matches a longer word (a rule whose
// condition fails ends the step).

// maxStemToken is the longest token (in bytes) the stemmer changes.
const maxStemToken = 64

// porterRule replaces suffix with repl when cond holds for the stem before the suffix.
type porterRule struct {
	suffix, repl string
	cond         func(stem []byte) bool
}

func isVowel(c byte, yIsVowel bool) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || yIsVowel && c == 'y'
}

// gobbleVC skips one vowel run and the consonant after it; it returns the index after that
// consonant, or 0 when there is none. prevCons says whether the byte before s was a
// consonant (a 'y' after a consonant is a vowel).
func gobbleVC(s []byte, prevCons bool) int {
	cons := prevCons
	i := 0
	for ; i < len(s); i++ {
		if cons = !isVowel(s[i], cons); !cons {
			break
		}
	}
	for i++; i < len(s); i++ {
		if cons = !isVowel(s[i], cons); cons {
			return i + 1
		}
	}
	return 0
}

// measureGt0 is the condition m > 0: the stem holds at least one vowel-consonant sequence.
func measureGt0(s []byte) bool { return gobbleVC(s, false) != 0 }

// measureGt1 is the condition m > 1.
func measureGt1(s []byte) bool {
	n := gobbleVC(s, false)
	return n != 0 && gobbleVC(s[n:], true) != 0
}

// measureEq1 is the condition m = 1.
func measureEq1(s []byte) bool {
	n := gobbleVC(s, false)
	return n != 0 && gobbleVC(s[n:], true) == 0
}

// endsCVC is the condition *o: the stem ends consonant-vowel-consonant, the last not w, x
// or y.
func endsCVC(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	if last := s[len(s)-1]; last == 'w' || last == 'x' || last == 'y' {
		return false
	}
	mask, cons := 0, false
	for _, c := range s {
		cons = !isVowel(c, cons)
		mask <<= 1
		if cons {
			mask |= 1
		}
	}
	return mask&7 == 5
}

// hasVowel is the condition *v* (FTS5 counts any 'y' but the first byte as a vowel).
func hasVowel(s []byte) bool {
	for i, c := range s {
		if isVowel(c, i > 0) {
			return true
		}
	}
	return false
}

func measureGt1ST(s []byte) bool {
	return len(s) > 0 && (s[len(s)-1] == 's' || s[len(s)-1] == 't') && measureGt1(s)
}

var (
	porterStep2 = []porterRule{
		{"ational", "ate", measureGt0}, {"tional", "tion", measureGt0},
		{"enci", "ence", measureGt0}, {"anci", "ance", measureGt0},
		{"izer", "ize", measureGt0},
		{"logi", "log", measureGt0},
		{"bli", "ble", measureGt0}, {"alli", "al", measureGt0}, {"entli", "ent", measureGt0}, {"eli", "e", measureGt0}, {"ousli", "ous", measureGt0},
		{"ization", "ize", measureGt0}, {"ation", "ate", measureGt0}, {"ator", "ate", measureGt0},
		{"alism", "al", measureGt0}, {"iveness", "ive", measureGt0}, {"fulness", "ful", measureGt0}, {"ousness", "ous", measureGt0},
		{"aliti", "al", measureGt0}, {"iviti", "ive", measureGt0}, {"biliti", "ble", measureGt0},
	}
	porterStep3 = []porterRule{
		{"icate", "ic", measureGt0}, {"ative", "", measureGt0}, {"alize", "al", measureGt0},
		{"iciti", "ic", measureGt0}, {"ical", "ic", measureGt0}, {"ful", "", measureGt0}, {"ness", "", measureGt0},
	}
	porterStep4 = []porterRule{
		{"al", "", measureGt1}, {"ance", "", measureGt1}, {"ence", "", measureGt1}, {"er", "", measureGt1},
		{"ic", "", measureGt1}, {"able", "", measureGt1}, {"ible", "", measureGt1}, {"ant", "", measureGt1},
		{"ement", "", measureGt1}, {"ment", "", measureGt1}, {"ent", "", measureGt1},
		{"ion", "", measureGt1ST}, {"ou", "", measureGt1}, {"ism", "", measureGt1}, {"ate", "", measureGt1},
		{"iti", "", measureGt1}, {"ous", "", measureGt1}, {"ive", "", measureGt1}, {"ize", "", measureGt1},
	}
)

// applyRules applies the first rule whose suffix ends w (with at least one byte before it)
// and reports whether one matched.
func applyRules(w []byte, rules []porterRule) ([]byte, bool) {
	for _, r := range rules {
		if len(w) <= len(r.suffix) || !hasSuffix(w, r.suffix) {
			continue
		}
		stem := w[:len(w)-len(r.suffix)]
		if r.cond(stem) {
			return append(stem, r.repl...), true
		}
		return w, false
	}
	return w, false
}

// stem returns the Porter stem of w, reusing w's memory.
func stem(w []byte) []byte {
	if len(w) < 3 || len(w) > maxStemToken {
		return w
	}
	// Step 1a: plurals.
	n := len(w)
	if w[n-1] == 's' {
		switch {
		case w[n-2] == 'e' && (n > 4 && w[n-4] == 's' && w[n-3] == 's' || n > 3 && w[n-3] == 'i'):
			w = w[:n-2] // sses → ss, ies → i
		case w[n-2] != 's':
			w = w[:n-1]
		}
	}
	// Step 1b: -eed, -ed, -ing.
	removed := false
	switch {
	case len(w) > 3 && hasSuffix(w, "eed"):
		if measureGt0(w[:len(w)-3]) {
			w = w[:len(w)-1]
		}
	case len(w) > 2 && hasSuffix(w, "ed") && hasVowel(w[:len(w)-2]):
		w, removed = w[:len(w)-2], true
	case len(w) > 3 && hasSuffix(w, "ing") && hasVowel(w[:len(w)-3]):
		w, removed = w[:len(w)-3], true
	}
	if removed {
		var ok bool
		if w, ok = applyRules(w, step1bFix); !ok && len(w) >= 2 {
			c := w[len(w)-1]
			switch {
			case !isVowel(c, false) && c != 'l' && c != 's' && c != 'z' && c == w[len(w)-2]:
				w = w[:len(w)-1]
			case measureEq1(w) && endsCVC(w):
				w = append(w, 'e')
			}
		}
	}
	// Step 1c: y → i after a vowel.
	if len(w) > 0 && w[len(w)-1] == 'y' && hasVowel(w[:len(w)-1]) {
		w[len(w)-1] = 'i'
	}
	w, _ = applyRules(w, porterStep2)
	w, _ = applyRules(w, porterStep3)
	w, _ = applyRules(w, porterStep4)
	// Step 5a: a final e.
	if n := len(w); n > 0 && w[n-1] == 'e' && (measureGt1(w[:n-1]) || measureEq1(w[:n-1]) && !endsCVC(w[:n-1])) {
		w = w[:n-1]
	}
	// Step 5b: ll → l.
	if n := len(w); n > 1 && w[n-1] == 'l' && w[n-2] == 'l' && measureGt1(w[:n-1]) {
		w = w[:n-1]
	}
	return w
}

// step1bFix restores an e after step 1b removed a suffix (conflat(ed) → conflate).
var step1bFix = []porterRule{
	{"at", "ate", always}, {"bl", "ble", always}, {"iz", "ize", always},
}

func always([]byte) bool { return true }

// hasSuffix is bytes.HasSuffix for a string suffix, without converting either.
func hasSuffix(w []byte, suffix string) bool {
	return len(w) >= len(suffix) && string(w[len(w)-len(suffix):]) == suffix
}
