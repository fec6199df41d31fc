package flows

import (
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

var yesWords = map[string]bool{"yes": true, "y": true, "yeah": true, "yep": true, "sure": true, "ok": true, "okay": true, "correct": true, "right": true, "please": true, "yes please": true, "of course": true}
var noWords = map[string]bool{"no": true, "n": true, "nope": true, "nah": true, "no thanks": true, "not really": true, "wrong": true}

// Accept validates an answer to an ask step and returns the slot value. NLU entities of the
// step's type are preferred; otherwise the text is checked with the type's own rules.
func (r *Runner) Accept(st *Step, text string, ents []tandem.Entity) (string, bool) {
	t := strings.TrimSpace(text)
	if t == "" {
		return "", false
	}
	for _, e := range ents {
		if e.Type == st.Type && e.Value != "" {
			return e.Value, true
		}
	}
	switch st.Type {
	case "text":
		return t, true
	case "email":
		m := emailRE.FindString(t)
		return strings.ToLower(m), m != ""
	case "number":
		m := numberRE.FindString(t)
		if m == "" {
			return "", false
		}
		return strings.ReplaceAll(m, ",", "."), true
	case "phone":
		m := phoneRE.FindString(t)
		if m == "" {
			return "", false
		}
		var b strings.Builder
		for i, c := range m {
			if c >= '0' && c <= '9' || (c == '+' && i == 0) {
				b.WriteRune(c)
			}
		}
		digits := b.String()
		n := len(strings.TrimPrefix(digits, "+"))
		return digits, n >= 7 && n <= 15
	case "date":
		m := dateRE.FindString(t)
		if m == "" {
			return "", false
		}
		if _, err := time.Parse("2006-01-02", m); err != nil {
			return "", false
		}
		return m, true
	case "money":
		m := moneyRE.FindString(t)
		return m, m != "" && numberRE.MatchString(m)
	case "yesno":
		w := strings.ToLower(strings.Trim(t, ".!? "))
		switch {
		case yesWords[w]:
			return "yes", true
		case noWords[w]:
			return "no", true
		}
		first, _, _ := strings.Cut(w, " ")
		first = strings.Trim(first, ",")
		switch {
		case yesWords[first]:
			return "yes", true
		case noWords[first]:
			return "no", true
		}
		return "", false
	}
	if r.Vocab == nil {
		return "", false
	}
	if name, ok := strings.CutPrefix(st.Type, "list:"); ok {
		return matchList(r.Vocab.Lists[name], t)
	}
	if re := r.Vocab.Patterns[st.Type]; re != nil {
		m := re.FindString(t)
		return m, m != ""
	}
	return "", false
}

// matchList returns the canonical value whose name or a synonym occurs in text as whole
// words (case-insensitive); the longest match wins.
func matchList(list map[string][]string, text string) (string, bool) {
	lt := " " + normalizeWords(text) + " "
	best, bestLen := "", 0
	for canon, syns := range list {
		for _, cand := range append([]string{canon}, syns...) {
			c := normalizeWords(cand)
			if c != "" && len(c) > bestLen && strings.Contains(lt, " "+c+" ") {
				best, bestLen = canon, len(c)
			}
		}
	}
	return best, best != ""
}

func normalizeWords(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r == '\'' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127)
	})
	return strings.Join(f, " ")
}
