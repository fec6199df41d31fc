package retrieval

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/tandemhq/tandem/retrieval/ingest"
)

// syntheticVocabulary is a support-desk vocabulary the synthetic collection is drawn from.
var syntheticVocabulary = strings.Fields(`account password reset email login sign order shipping delivery parcel
refund return invoice payment card paypal subscription plan upgrade cancel billing address phone
notification settings privacy security two factor authentication device app android iphone browser
chrome firefox cookie cache error message crash slow upload download file folder share link
permission team member admin role export import csv report dashboard chart filter search tag label
archive delete restore backup sync calendar event reminder meeting invite video call audio microphone
camera screen language translation currency tax discount coupon gift voucher warranty repair
replacement damaged missing late tracking number courier customs international express standard
weekend holiday hours support agent chat ticket feedback review rating`)

// SyntheticSources returns n FAQ-like sources of 40–90 words each, deterministically: the
// support vocabulary plus 5,000 made-up words drawn with a Zipf law, like real text.
func SyntheticSources(n int) []Source {
	r := rand.New(rand.NewPCG(1, 2))
	vocab := slices.Clone(syntheticVocabulary)
	syll := []string{"ka", "lo", "mi", "ter", "an", "so", "ru", "vex", "pi", "dor", "el", "un", "ba", "qui", "st"}
	for len(vocab) < 5000 {
		w := ""
		for k := 0; k < 2+r.IntN(3); k++ {
			w += syll[r.IntN(len(syll))]
		}
		vocab = append(vocab, w)
	}
	r.Shuffle(len(vocab), func(i, j int) { vocab[i], vocab[j] = vocab[j], vocab[i] })
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 2, uint64(len(vocab)-1))
	word := func() string { return vocab[zipf.Uint64()] }
	out := make([]Source, n)
	for i := range out {
		title := make([]string, 4+r.IntN(5))
		for j := range title {
			title[j] = word()
		}
		body := make([]string, 40+r.IntN(50))
		for j := range body {
			body[j] = word()
			if j%12 == 11 {
				body[j] += "."
			}
		}
		out[i] = Source{
			ID: fmt.Sprintf("doc-%05d", i), Title: "How do I " + strings.Join(title, " ") + "?",
			Body: strings.Join(body, " "), Kind: ingest.KindFAQ,
		}
	}
	return out
}
