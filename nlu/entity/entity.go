// Package entity extracts typed values from customer messages: emails, phone numbers (E.164),
// dates and times including relative ones, money amounts, numbers, bot-defined patterns and
// bot-defined lists with synonyms and fuzzy matching.
package entity

import (
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/nlu/pii"
)

// List is a bot-defined entity: canonical values with their synonyms.
type List struct {
	Name   string
	Values map[string][]string
}

// Config sets up an Extractor.
type Config struct {
	Patterns map[string]string // entity name -> regular expression
	Lists    []List
	Region   string           // default phone region (default "US")
	Now      func() time.Time // for relative dates (default time.Now)
}

// Extractor finds entities. It is safe for concurrent use.
type Extractor struct {
	patterns []namedPattern
	lists    []listEntry
	region   string
	now      func() time.Time
}

type namedPattern struct {
	name string
	re   *regexp.Regexp
}

type listEntry struct {
	name, value string
	words       []term // normalised synonym tokens
	cjk         bool   // one word in a script without spaces: matched as a substring
}

// term is a word prepared for fuzzy comparison: its runes, how many edits it tolerates and
// a bitmask of the letters it contains. Two words whose masks differ in more than 2k bits are
// more than k edits apart (an edit changes at most two bits), which rejects most pairs
// without computing a distance.
type term struct {
	s       string
	r       []rune
	allowed int
	mask    uint64
}

func newTerm(s string) term {
	r := []rune(s)
	t := term{s: s, r: r}
	switch {
	case len(r) >= 8:
		t.allowed = 2
	case len(r) >= 4:
		t.allowed = 1
	}
	for _, c := range r {
		t.mask |= 1 << (uint32(c) % 64)
	}
	return t
}

// New compiles cfg.
func New(cfg Config) (*Extractor, error) {
	e := &Extractor{region: cfg.Region, now: cfg.Now}
	if e.region == "" {
		e.region = "US"
	}
	if e.now == nil {
		e.now = time.Now
	}
	names := make([]string, 0, len(cfg.Patterns))
	for n := range cfg.Patterns {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		re, err := regexp.Compile(cfg.Patterns[n])
		if err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "entity pattern %s: %v", n, err)
		}
		e.patterns = append(e.patterns, namedPattern{n, re})
	}
	for _, l := range cfg.Lists {
		vals := make([]string, 0, len(l.Values))
		for v := range l.Values {
			vals = append(vals, v)
		}
		slices.Sort(vals)
		for _, v := range vals {
			for _, syn := range append([]string{v}, l.Values[v]...) {
				ws := words(syn)
				if len(ws) > 0 {
					ts := make([]term, len(ws))
					for i, w := range ws {
						ts[i] = newTerm(w)
					}
					e.lists = append(e.lists, listEntry{name: l.Name, value: v, words: ts, cjk: len(ws) == 1 && hasCJK(ws[0])})
				}
			}
		}
	}
	// Longer synonyms first so "new york city" wins over "york".
	slices.SortStableFunc(e.lists, func(a, b listEntry) int { return len(b.words) - len(a.words) })
	return e, nil
}

var (
	reEmail  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	reMoney  = regexp.MustCompile(`(?i)(?:([$€£¥])\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?(dollars?|euros?|pounds?|bucks|usd|eur|gbp|jpy|yen|円))`)
	reNumber = regexp.MustCompile(`\b\d+(?:[.,]\d+)?\b|\d+`)
	reISO    = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	reSlash  = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b`)
	reMonth  = regexp.MustCompile(`(?i)\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?)(?:,?\s+(\d{4}))?\b`)
	reRel    = regexp.MustCompile(`(?i)\b(today|tonight|tomorrow|yesterday|day after tomorrow|in (\d+|a|one|two|three) (day|days|week|weeks)|(next|this|on|last)? ?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)|next week)\b|今日|明日|明後日|昨日|来週`)
	reJaTime = regexp.MustCompile(`(午後|午前)?(\d{1,2})時(?:(\d{1,2})分|半)?`)
	reTime   = regexp.MustCompile(`(?i)\b(\d{1,2})(?::(\d{2}))?\s?(am|pm|a\.m\.|p\.m\.)|\b(\d{1,2}):(\d{2})\b|\b(noon|midnight)\b`)
)

var months = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}

var weekdays = map[string]time.Weekday{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}

var smallNumbers = map[string]int{"a": 1, "one": 1, "two": 2, "three": 3}

// Extract returns the entities in text, by position, without overlaps (the first kind to claim
// a span keeps it: emails, phones, bot patterns, money, dates, times, lists, numbers).
func (e *Extractor) Extract(text string) []tandem.Entity {
	var out []tandem.Entity
	add := func(typ, value string, s, end int) {
		for _, o := range out {
			if s < o.End && end > o.Start {
				return
			}
		}
		out = append(out, tandem.Entity{Type: typ, Value: value, Text: text[s:end], Start: s, End: end})
	}
	// Cheap checks first: most messages have no digits, and regexps are the cost here.
	digits := strings.ContainsAny(text, "0123456789")
	if strings.Contains(text, "@") {
		for _, m := range reEmail.FindAllStringIndex(text, -1) {
			add("email", strings.ToLower(text[m[0]:m[1]]), m[0], m[1])
		}
	}
	if !digits {
		// Only relative dates, lists and bot patterns can match.
		for _, p := range e.patterns {
			for _, m := range p.re.FindAllStringIndex(text, -1) {
				add(p.name, text[m[0]:m[1]], m[0], m[1])
			}
		}
		e.relativeDates(text, e.now(), add)
		if reTime.MatchString(text) {
			for _, m := range reTime.FindAllStringSubmatchIndex(text, -1) {
				if v, ok := parseTime(text, m); ok {
					add("time", v, m[0], m[1])
				}
			}
		}
		e.matchLists(text, add)
		slices.SortFunc(out, func(a, b tandem.Entity) int { return a.Start - b.Start })
		return out
	}
	// Card numbers, IBANs and national ids are personal data, not numbers to fill slots with:
	// their spans are claimed without an entity.
	var blocked [][2]int
	for _, f := range pii.Find(text, e.region, pii.Card, pii.IBAN, pii.NationalID) {
		blocked = append(blocked, [2]int{f.Start, f.End})
	}
	add = func(inner func(typ, value string, s, end int)) func(typ, value string, s, end int) {
		return func(typ, value string, s, end int) {
			for _, b := range blocked {
				if s < b[1] && end > b[0] {
					return
				}
			}
			inner(typ, value, s, end)
		}
	}(add)
	for _, m := range pii.PhoneSpans(text, e.region) {
		if v, ok := pii.ParsePhone(text[m[0]:m[1]], e.region); ok {
			add("phone", v, m[0], m[1])
		}
	}
	for _, p := range e.patterns {
		for _, m := range p.re.FindAllStringIndex(text, -1) {
			add(p.name, text[m[0]:m[1]], m[0], m[1])
		}
	}
	for _, m := range reMoney.FindAllStringSubmatchIndex(text, -1) {
		var amount, cur string
		if m[2] >= 0 {
			cur, amount = currency(text[m[2]:m[3]]), text[m[4]:m[5]]
		} else {
			amount, cur = text[m[6]:m[7]], currency(text[m[8]:m[9]])
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(amount, ",", ""), 64)
		if err == nil {
			add("money", fmt.Sprintf("%.2f %s", f, cur), m[0], m[1])
		}
	}
	now := e.now()
	e.dates(text, now, add)
	for _, m := range reTime.FindAllStringSubmatchIndex(text, -1) {
		if v, ok := parseTime(text, m); ok {
			add("time", v, m[0], m[1])
		}
	}
	for _, m := range reJaTime.FindAllStringSubmatchIndex(text, -1) {
		h, _ := strconv.Atoi(text[m[4]:m[5]])
		mi := 0
		if m[6] >= 0 {
			mi, _ = strconv.Atoi(text[m[6]:m[7]])
		} else if strings.HasSuffix(text[m[0]:m[1]], "半") {
			mi = 30
		}
		if m[2] >= 0 && text[m[2]:m[3]] == "午後" && h < 12 {
			h += 12
		}
		if h <= 23 && mi <= 59 {
			add("time", fmt.Sprintf("%02d:%02d", h, mi), m[0], m[1])
		}
	}
	e.matchLists(text, add)
	for _, m := range reNumber.FindAllStringIndex(text, -1) {
		v := strings.ReplaceAll(text[m[0]:m[1]], ",", ".")
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			add("number", v, m[0], m[1])
		}
	}
	slices.SortFunc(out, func(a, b tandem.Entity) int { return a.Start - b.Start })
	return out
}

func currency(s string) string {
	switch strings.ToLower(s) {
	case "$", "usd", "dollar", "dollars", "bucks":
		return "USD"
	case "€", "eur", "euro", "euros":
		return "EUR"
	case "£", "gbp", "pound", "pounds":
		return "GBP"
	case "¥", "jpy", "yen", "円":
		return "JPY"
	}
	return strings.ToUpper(s)
}

func (e *Extractor) dates(text string, now time.Time, add func(typ, value string, s, end int)) {
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	for _, m := range reISO.FindAllStringSubmatchIndex(text, -1) {
		if t, err := time.Parse("2006-01-02", text[m[0]:m[1]]); err == nil {
			add("date", day(t), m[0], m[1])
		}
	}
	for _, m := range reMonth.FindAllStringSubmatchIndex(text, -1) {
		var d, mon string
		if m[2] >= 0 {
			d, mon = text[m[2]:m[3]], text[m[4]:m[5]]
		} else {
			mon, d = text[m[6]:m[7]], text[m[8]:m[9]]
		}
		dn, _ := strconv.Atoi(d)
		year := now.Year()
		if m[10] >= 0 {
			year, _ = strconv.Atoi(text[m[10]:m[11]])
		}
		t := time.Date(year, months[strings.ToLower(mon)], dn, 0, 0, 0, 0, now.Location())
		if dn >= 1 && dn <= 31 && t.Day() == dn {
			add("date", day(t), m[0], m[1])
		}
	}
	for _, m := range reSlash.FindAllStringSubmatchIndex(text, -1) {
		a, _ := strconv.Atoi(text[m[2]:m[3]])
		b, _ := strconv.Atoi(text[m[4]:m[5]])
		year := now.Year()
		if m[6] >= 0 {
			year, _ = strconv.Atoi(text[m[6]:m[7]])
			if year < 100 {
				year += 2000
			}
		}
		mon, dn := a, b // US order by default; day-first when the first part cannot be a month
		if e.region != "US" || a > 12 {
			mon, dn = b, a
		}
		t := time.Date(year, time.Month(mon), dn, 0, 0, 0, 0, now.Location())
		if mon >= 1 && mon <= 12 && t.Day() == dn {
			add("date", day(t), m[0], m[1])
		}
	}
	e.relativeDates(text, now, add)
}

// relTriggers are substrings without which no relative date can match.
var relTriggers = []string{"day", "tomorrow", "tonight", "week", "今日", "明日", "明後日", "昨日", "来週"}

func (e *Extractor) relativeDates(text string, now time.Time, add func(typ, value string, s, end int)) {
	lower := strings.ToLower(text)
	found := false
	for _, t := range relTriggers {
		if strings.Contains(lower, t) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	for _, m := range reRel.FindAllStringSubmatchIndex(text, -1) {
		s := strings.ToLower(text[m[0]:m[1]])
		var t time.Time
		switch {
		case s == "today" || s == "tonight" || s == "今日":
			t = today
		case s == "tomorrow" || s == "明日":
			t = today.AddDate(0, 0, 1)
		case s == "day after tomorrow" || s == "明後日":
			t = today.AddDate(0, 0, 2)
		case s == "yesterday" || s == "昨日":
			t = today.AddDate(0, 0, -1)
		case s == "next week" || s == "来週":
			t = today.AddDate(0, 0, 7)
		case m[4] >= 0:
			n, err := strconv.Atoi(text[m[4]:m[5]])
			if err != nil {
				n = smallNumbers[strings.ToLower(text[m[4]:m[5]])]
			}
			if strings.HasPrefix(strings.ToLower(text[m[6]:m[7]]), "week") {
				n *= 7
			}
			t = today.AddDate(0, 0, n)
		case m[10] >= 0:
			wd := weekdays[strings.ToLower(text[m[10]:m[11]])]
			mod := ""
			if m[8] >= 0 {
				mod = strings.ToLower(text[m[8]:m[9]])
			}
			delta := (int(wd) - int(today.Weekday()) + 7) % 7
			switch mod {
			case "next":
				if delta == 0 {
					delta = 7
				}
			case "last":
				delta = -((int(today.Weekday()) - int(wd) + 7) % 7)
				if delta == 0 {
					delta = -7
				}
			}
			t = today.AddDate(0, 0, delta)
		default:
			continue
		}
		add("date", day(t), m[0], m[1])
	}
}

func parseTime(text string, m []int) (string, bool) {
	var h, mi int
	switch {
	case m[2] >= 0:
		h, _ = strconv.Atoi(text[m[2]:m[3]])
		if m[4] >= 0 {
			mi, _ = strconv.Atoi(text[m[4]:m[5]])
		}
		pm := strings.HasPrefix(strings.ToLower(text[m[6]:m[7]]), "p")
		if h < 1 || h > 12 {
			return "", false
		}
		if pm && h != 12 {
			h += 12
		} else if !pm && h == 12 {
			h = 0
		}
	case m[8] >= 0:
		h, _ = strconv.Atoi(text[m[8]:m[9]])
		mi, _ = strconv.Atoi(text[m[10]:m[11]])
	case m[12] >= 0:
		if strings.ToLower(text[m[12]:m[13]]) == "noon" {
			h = 12
		}
	}
	if h > 23 || mi > 59 {
		return "", false
	}
	return fmt.Sprintf("%02d:%02d", h, mi), true
}

// wordSpan is a token with its byte offsets.
type wordSpan struct {
	w          string
	start, end int
}

func words(s string) []string {
	var out []string
	for _, w := range spans(s) {
		out = append(out, w.w)
	}
	return out
}

func spans(s string) []wordSpan {
	var out []wordSpan
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, wordSpan{strings.ToLower(s[start:i]), start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, wordSpan{strings.ToLower(s[start:]), start, len(s)})
	}
	return out
}

// matchLists finds list synonyms as word sequences, allowing small typos in longer words
// (one edit from 4 letters, two from 8). Synonyms in scripts without spaces match as substrings.
func (e *Extractor) matchLists(text string, add func(typ, value string, s, end int)) {
	if len(e.lists) == 0 {
		return
	}
	toks := spans(text)
	terms := make([]term, len(toks))
	for i, t := range toks {
		terms[i] = newTerm(t.w)
	}
	lower := strings.ToLower(text)
	for _, l := range e.lists {
		if l.cjk {
			if i := strings.Index(lower, l.words[0].s); i >= 0 {
				add(l.name, l.value, i, i+len(l.words[0].s))
			}
			continue
		}
		for i := 0; i+len(l.words) <= len(toks); i++ {
			ok := true
			for j, w := range l.words {
				if !fuzzyEqual(terms[i+j], w) {
					ok = false
					break
				}
			}
			if ok {
				add(l.name, l.value, toks[i].start, toks[i+len(l.words)-1].end)
			}
		}
	}
}

func hasCJK(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return true
		}
	}
	return false
}

// fuzzyEqual reports whether a is within b's allowed edits of b.
func fuzzyEqual(a, b term) bool {
	if a.s == b.s {
		return true
	}
	k := b.allowed
	if k == 0 || bits.OnesCount64(a.mask^b.mask) > 2*k {
		return false
	}
	return levenshtein(a.r, b.r, k) <= k
}

// levenshtein returns the edit distance, or max+1 once it exceeds max.
func levenshtein(a, b []rune, maxD int) int {
	if d := len(a) - len(b); d > maxD || -d > maxD {
		return maxD + 1
	}
	// Rows live on the stack for words of ordinary length.
	var buf [2][32]int
	prev, cur := buf[0][:0], buf[1][:0]
	if len(b)+1 > len(buf[0]) {
		prev, cur = make([]int, 0, len(b)+1), make([]int, 0, len(b)+1)
	}
	prev, cur = prev[:len(b)+1], cur[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > maxD {
			return maxD + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
