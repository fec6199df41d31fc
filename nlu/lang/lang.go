// Package lang detects the language of short customer messages: by script for Japanese,
// Chinese, Korean, Arabic, Russian and others, and by function words and letters for the
// Latin-script languages (English, Spanish, French, German, Portuguese, Italian, Dutch).
package lang

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

var stopwords = map[string][]string{
	"en": strings.Fields("the a an and or but so if as no is are was were be been to of in on at for from with my your i you u it this that they have has do does did not don't can will what how when where why please thanks hello hi me we our order card just still get"),
	"es": strings.Fields("el la los las un una y o es son está estoy de del en con por para mi mis tu su que qué cómo cuándo dónde porque no sí puedo quiero hola gracias por favor pedido tarjeta me lo le se muy"),
	"fr": strings.Fields("le la les un une et ou est sont suis de du des en avec pour par mon ma mes ton votre que quoi comment quand où pourquoi ne pas oui je tu vous il elle bonjour merci commande carte ai c'est"),
	"de": strings.Fields("der die das ein eine und oder ist sind bin von zu mit für auf mein meine dein ihr was wie wann wo warum nicht ja ich du sie es hallo danke bitte bestellung karte habe kann ich"),
	"pt": strings.Fields("o a os as um uma e ou é são estou de do da em com por para meu minha você que como quando onde não sim obrigado olá pedido cartão"),
	"it": strings.Fields("il lo la i gli le un una e o è sono di del della in con per mio mia tuo che come quando dove perché non sì ciao grazie ordine carta ho"),
	"nl": strings.Fields("de het een en of is zijn ben van met voor op mijn jouw wat hoe wanneer waar waarom niet ja ik je u hallo dank bedankt bestelling kaart heb"),
}

// latinLangs are the Latin-script languages told apart by words, in order of preference
// on a tie; indexes into it stand for the languages below.
var latinLangs = [...]string{"en", "es", "fr", "de", "pt", "it", "nl"}

func langIndex(code string) int {
	for i, l := range latinLangs {
		if l == code {
			return i
		}
	}
	panic("lang: unknown latin language " + code)
}

var stopIndex = func() map[string][]int {
	idx := map[string][]int{}
	for l, ws := range stopwords {
		for _, w := range ws {
			idx[w] = append(idx[w], langIndex(l))
		}
	}
	return idx
}()

// letterHints are letters that point at one language.
var letterHints = func() map[rune]int {
	hints := map[string]string{"es": "ñ¿¡áíóú", "fr": "çèêàùîôœé", "de": "ßäöü", "pt": "ãõ"}
	m := map[rune]int{}
	for l, rs := range hints {
		for _, r := range rs {
			m[r] = langIndex(l)
		}
	}
	return m
}()

// Detect returns the ISO 639-1 code of text's language, or "" when it cannot tell (empty text,
// digits only).
func Detect(text string) string {
	var kana, han, hangul, cyr, arabic, hebrew, greek, thai, devanagari, latin int
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf:
			// ASCII, most messages: skip the Unicode table look-ups.
			if 'a' <= r|0x20 && r|0x20 <= 'z' {
				latin++
			}
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Arabic, r):
			arabic++
		case unicode.Is(unicode.Hebrew, r):
			hebrew++
		case unicode.Is(unicode.Greek, r):
			greek++
		case unicode.Is(unicode.Thai, r):
			thai++
		case unicode.Is(unicode.Devanagari, r):
			devanagari++
		case unicode.Is(unicode.Latin, r):
			latin++
		}
	}
	switch {
	case kana > 0:
		return "ja"
	case hangul > 0 && hangul >= latin:
		return "ko"
	case han > 0 && han >= latin:
		return "zh"
	case cyr > latin:
		return "ru"
	case arabic > latin:
		return "ar"
	case hebrew > latin:
		return "he"
	case greek > latin:
		return "el"
	case thai > latin:
		return "th"
	case devanagari > latin:
		return "hi"
	case latin == 0:
		return ""
	}
	var score [len(latinLangs)]float64
	lower := strings.ToLower(text)
	for _, r := range lower {
		if l, ok := letterHints[r]; ok {
			score[l] += 0.5
		}
	}
	for field := range strings.FieldsSeq(lower) {
		// Links, @handles and #tags are not words of the message: a link's random letters ("e",
		// "o") would count as Portuguese or Italian.
		if strings.Contains(field, "://") || strings.HasPrefix(field, "@") || strings.HasPrefix(field, "#") {
			continue
		}
		for w := range strings.FieldsFuncSeq(field, notWordRune) {
			for _, l := range stopIndex[w] {
				score[l] += 1 / float64(len(stopIndex[w]))
			}
		}
	}
	best, bestScore := 0, 0.0
	for l := range latinLangs {
		if score[l] > bestScore {
			best, bestScore = l, score[l]
		}
	}
	return latinLangs[best]
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }
