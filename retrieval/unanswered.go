package retrieval

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tandemhq/tandem/retrieval/embed"
)

// QuestionGroup is a set of similar customer questions, e.g. ones the knowledge base could
// not answer: a candidate for a new article.
type QuestionGroup struct {
	Representative string   `json:"representative"` // the question closest to the group's centre
	Questions      []string `json:"questions"`
	Count          int      `json:"count"`
}

// GroupQuestions clusters questions by meaning with the offline embedder (fitted on the
// questions themselves) and returns the groups, largest first. Questions join the most
// similar group whose centre is at least similarity away (default 0.3 when <= 0), else
// start a new one. Empty and repeated questions count once per occurrence.
func GroupQuestions(questions []string, similarity float64) []QuestionGroup {
	if similarity <= 0 {
		similarity = 0.3
	}
	var texts []string
	for _, q := range questions {
		if q = strings.TrimSpace(q); q != "" {
			texts = append(texts, q)
		}
	}
	if len(texts) == 0 {
		return nil
	}
	h, _ := embed.New(embed.Config{Dimension: 512}, nil)
	st := embed.NewStats()
	st.Add(h, texts...)
	h = h.WithStats(st)
	type group struct {
		sum     []float64
		members []int
	}
	vecs := make([][]float32, len(texts))
	var groups []*group
	for i, t := range texts {
		v := h.Embed(t)
		vecs[i] = v
		best, bestSim := -1, similarity
		for gi, g := range groups {
			if s := centroidCosine(g.sum, v); s >= bestSim {
				best, bestSim = gi, s
			}
		}
		if best < 0 {
			groups = append(groups, &group{sum: make([]float64, len(v))})
			best = len(groups) - 1
		}
		g := groups[best]
		g.members = append(g.members, i)
		for j, x := range v {
			g.sum[j] += float64(x)
		}
	}
	out := make([]QuestionGroup, 0, len(groups))
	for _, g := range groups {
		qg := QuestionGroup{Count: len(g.members)}
		rep, repSim := -1, -2.0
		for _, m := range g.members {
			qg.Questions = append(qg.Questions, texts[m])
			if s := centroidCosine(g.sum, vecs[m]); s > repSim {
				rep, repSim = m, s
			}
		}
		qg.Representative = texts[rep]
		out = append(out, qg)
	}
	slices.SortStableFunc(out, func(a, b QuestionGroup) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

func centroidCosine(sum []float64, v []float32) float64 {
	var dot, n float64
	for i, x := range sum {
		dot += x * float64(v[i])
		n += x * x
	}
	if n == 0 {
		return 0
	}
	return dot / sqrt(n) // v is unit length
}
