package retrieval

import (
	"regexp"
	"strings"
	"unicode"
)

var (
	urlRE    = regexp.MustCompile(`(?i)\bhttps?://[^\s)\]]+|\bwww\.[^\s)\]]+`)
	numberRE = regexp.MustCompile(`\d+(?:[.,]\d+)?`)
)

// stopwords are ignored when measuring support: they carry no facts.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the a an and or but of to in on at for with from by as is are was were be been
	being it its this that these those you your we our they them their he she his her i me my can could will would should
	may might must do does did not no yes if then than so such there here what which who whom how when where why all any
	each more most other some into about over after before also just only very too please thank thanks
	im i'm id i'd ive i've dont don't doesnt doesn't cant can't whats what's hows how's way get got want like
	need know there's there're anyone someone something`) {
		stopwords[w] = true
	}
}

// supportTokens returns the content words of text (lower case, no stop words) and, for
// Chinese and Japanese, character bigrams.
func supportTokens(text string) []string {
	var out []string
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		if isCJKRune(word[0]) {
			if len(word) == 1 {
				out = append(out, string(word))
			}
			for i := 0; i+2 <= len(word); i++ {
				out = append(out, string(word[i:i+2]))
			}
		} else if w := string(word); len(word) > 1 && !stopwords[w] {
			out = append(out, stem(w))
		}
		word = word[:0]
	}
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if len(word) > 0 && isCJKRune(word[0]) != isCJKRune(r) {
				flush()
			}
			word = append(word, r)
			continue
		}
		flush()
	}
	flush()
	return out
}

// stem strips the commonest English suffixes so "ships" supports "shipping".
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if len(w) > len(suf)+3 && strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

func isCJKRune(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

// Grounded reports whether answer is supported by passages: every link and number in it
// appears in a passage, and each sentence shares most of its content words with them.
// Generated answers that fail are dropped.
func Grounded(answer string, passages []Passage) bool {
	if strings.TrimSpace(answer) == "" || len(passages) == 0 {
		return false
	}
	var corpus strings.Builder
	for _, p := range passages {
		corpus.WriteString(p.Title)
		corpus.WriteString("\n")
		corpus.WriteString(p.Heading)
		corpus.WriteString("\n")
		corpus.WriteString(p.Text)
		corpus.WriteString("\n")
	}
	src := corpus.String()
	lowerSrc := strings.ToLower(src)
	for _, u := range urlRE.FindAllString(answer, -1) {
		if !strings.Contains(lowerSrc, strings.ToLower(strings.TrimRight(u, ".,;:!?"))) {
			return false
		}
	}
	srcNumbers := map[string]bool{}
	for _, n := range numberRE.FindAllString(src, -1) {
		srcNumbers[n] = true
	}
	for _, n := range numberRE.FindAllString(answer, -1) {
		if !srcNumbers[n] {
			return false
		}
	}
	vocab := map[string]bool{}
	for _, t := range supportTokens(src) {
		vocab[t] = true
	}
	srcCJK := cjkShare(src) > 0.3
	for _, s := range sentences(answer) {
		toks := supportTokens(s)
		if len(toks) < 3 || (cjkShare(s) > 0.3) != srcCJK {
			// An answer in another script than its passages (a Japanese answer from
			// English articles) cannot be compared word by word; links and numbers
			// above are still checked.
			continue
		}
		hit := 0
		for _, t := range toks {
			if vocab[t] {
				hit++
			}
		}
		if float64(hit) < 0.6*float64(len(toks)) {
			return false
		}
	}
	return true
}

// cjkShare is the share of letters in s that are Chinese or Japanese characters.
func cjkShare(s string) float64 {
	var cjk, all int
	for _, r := range s {
		if unicode.IsLetter(r) {
			all++
			if isCJKRune(r) {
				cjk++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(cjk) / float64(all)
}
