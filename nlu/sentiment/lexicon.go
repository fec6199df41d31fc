package sentiment

import (
	"math"
	"strings"

	"github.com/tandemhq/tandem"

	"github.com/tandemhq/tandem/nlu/internal/linear"
)

// lexicon maps words and emoji to a polarity in [-3, 3]. It is Tandem's own small list (no
// third-party lexicon), aimed at customer-service messages.
var lexicon = map[string]float64{
	// positive
	"good": 2, "great": 3, "excellent": 3, "amazing": 3, "awesome": 3, "love": 3, "loved": 3, "loving": 3,
	"like": 1, "liked": 1.5, "nice": 2, "thanks": 2, "thank": 2, "thx": 2, "ty": 1.5, "appreciate": 2,
	"appreciated": 2, "helpful": 2, "happy": 2.5, "glad": 2, "best": 2.5, "perfect": 3, "fantastic": 3,
	"wonderful": 3, "pleased": 2, "friendly": 2, "kind": 1.5, "quick": 1, "fast": 1, "easy": 1.5,
	"smooth": 1.5, "resolved": 1.5, "fixed": 1, "works": 1, "enjoy": 2, "enjoyed": 2, "cool": 1.5,
	"yay": 2, "wow": 1.5, "brilliant": 3, "superb": 3, "outstanding": 3, "impressed": 2.5, "kudos": 2.5,
	"recommend": 2, "satisfied": 2, "comfortable": 1.5, "safe": 1, "welcome": 1, "fun": 2,
	"gracias": 2, "merci": 2, "danke": 2, "genial": 2.5, "excelente": 3, "super": 2, "bien": 1,
	// negative
	"bad": -2.5, "terrible": -3, "awful": -3, "horrible": -3, "worst": -3, "hate": -3, "hated": -3,
	"poor": -2, "rude": -2.5, "angry": -2.5, "upset": -2, "annoyed": -2, "annoying": -2, "frustrated": -2.5,
	"frustrating": -2.5, "disappointed": -2.5, "disappointing": -2.5, "useless": -2.5, "broken": -2,
	"delayed": -1.5, "delay": -1.5, "delays": -1.5, "cancelled": -1.5, "canceled": -1.5, "lost": -1.5,
	"late": -1.5, "wait": -0.5, "waiting": -1, "stuck": -2, "fail": -2, "failed": -2, "fails": -2,
	"problem": -1.5, "problems": -1.5, "issue": -1, "issues": -1, "wrong": -1.5, "never": -1,
	"ridiculous": -2.5, "unacceptable": -3, "worse": -2.5, "sucks": -3, "sad": -2, "mad": -2.5,
	"complaint": -2, "refund": -0.5, "scam": -3, "slow": -1.5, "hours": -0.5, "nobody": -1,
	"unhelpful": -2.5, "incompetent": -3, "pathetic": -3, "fuck": -3, "shit": -3, "crap": -2.5, "wtf": -2.5,
	"malo": -2.5, "mala": -2.5, "pésimo": -3, "nul": -2, "nulle": -2, "mauvais": -2,
	"schlecht": -2.5, "schrecklich": -3, "furchtbar": -3, "enttäuscht": -2.5, "ärgerlich": -2, "déçu": -2.5,
	"decepcionado": -2.5, "lento": -1.5, "retraso": -1.5, "retard": -1.5, "verspätung": -1.5,
	"bueno": 2, "buena": 2, "contento": 2, "contenta": 2, "content": 2, "contente": 2, "génial": 3,
	"parfait": 3, "gut": 2, "toll": 2.5, "prima": 2, "zufrieden": 2, "wunderbar": 3, "perfekt": 3,
	// emoji
	"😀": 2, "😃": 2, "😄": 2, "😁": 2, "😊": 2, "🙂": 1, "😍": 3, "🥰": 3, "👍": 2, "❤": 3, "♥": 2.5,
	"🙏": 1.5, "🎉": 2, "✈": 0, "😉": 1, "😂": 1, "👏": 2, "💯": 2, "😎": 1.5,
	"😞": -2, "😠": -2.5, "😡": -3, "🤬": -3, "😢": -2, "😭": -2.5, "👎": -2, "😤": -2.5, "🙁": -1.5,
	"☹": -2, "😒": -2, "😩": -2, "😫": -2, "💔": -2.5, "🤦": -2, "😑": -1, "🙄": -1.5,
}

// cjkLexicon holds words of languages written without spaces, matched as substrings.
var cjkLexicon = map[string]float64{
	"ありがとう": 2, "感謝": 2, "助かり": 2, "素晴らしい": 3, "最高": 3, "嬉しい": 2.5, "うれしい": 2.5,
	"良い": 2, "よかった": 2, "満足": 2, "便利": 1.5, "好き": 2,
	"最悪": -3, "ひどい": -2.5, "酷い": -2.5, "遅い": -1.5, "届かない": -1.5, "怒": -2.5, "残念": -2,
	"困っ": -1.5, "不満": -2.5, "嫌い": -2.5, "ダメ": -2, "だめ": -2, "問題": -1, "壊れ": -2, "悪い": -2,
	"谢谢": 2, "很好": 2, "太差": -3, "糟糕": -3,
}

var negations = map[string]bool{
	"not": true, "no": true, "never": true, "dont": true, "don't": true, "didn't": true, "didnt": true,
	"isn't": true, "isnt": true, "wasn't": true, "wasnt": true, "can't": true, "cant": true, "cannot": true,
	"won't": true, "wont": true, "haven't": true, "havent": true, "hasn't": true, "aren't": true,
	"couldn't": true, "wouldn't": true, "shouldn't": true, "nothing": true, "without": true,
	"nunca": true, "pas": true, "nicht": true, "kein": true, "keine": true,
}

var intensifiers = map[string]float64{
	"very": 1.5, "really": 1.4, "so": 1.3, "extremely": 1.8, "super": 1.5, "totally": 1.4,
	"absolutely": 1.6, "incredibly": 1.7, "too": 1.3, "most": 1.3, "quite": 1.1,
	"slightly": 0.6, "somewhat": 0.7, "bit": 0.7, "kinda": 0.7, "little": 0.7, "barely": 0.5,
}

// negated reports a negation within the three words before toks[i].
func negated(toks []string, i int) bool {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if negations[toks[j]] {
			return true
		}
	}
	return false
}

// LexiconScore scores text in [-1, 1] from the built-in lexicon: a negation within three words
// flips and dampens a word, an intensifier before it scales it, an exclamation mark strengthens
// the whole message.
func LexiconScore(text string) float64 {
	return lexiconScore(text, linear.Tokens(linear.Normalize(text)))
}

// lexiconScore is LexiconScore over text's tokens.
func lexiconScore(text string, toks []string) float64 {
	var sum float64
	exclaim := 0
	for i, t := range toks {
		if t == "!" {
			exclaim++
			continue
		}
		v, ok := lexicon[t]
		if !ok {
			v, ok = lexicon[strings.TrimSuffix(t, "\ufe0f")]
		}
		if !ok || v == 0 {
			continue
		}
		if negated(toks, i) {
			v *= -0.6
		}
		if i > 0 {
			if m, ok := intensifiers[toks[i-1]]; ok {
				v *= m
			}
		}
		sum += v
	}
	for w, v := range cjkLexicon {
		if strings.Contains(text, w) {
			sum += v
		}
	}
	if sum != 0 && exclaim > 0 {
		sum *= 1 + 0.1*float64(min(exclaim, 3))
	}
	// Squash like VADER's normalisation: x / sqrt(x² + α).
	return sum / math.Sqrt(sum*sum+15)
}

// LexiconSentiment labels text from the lexicon alone (used when no trained model is available).
func LexiconSentiment(text string) tandem.Sentiment {
	s := LexiconScore(text)
	l := tandem.SentimentNeutral
	switch {
	case s >= 0.15:
		l = tandem.SentimentPositive
	case s <= -0.15:
		l = tandem.SentimentNegative
	}
	return tandem.Sentiment{Label: l, Score: math.Round(s*1000) / 1000}
}
