package embed

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type corpusDoc struct{ ID, Title, Text string }
type question struct {
	Question string
	DocIDs   []string `json:"doc_ids"`
}

func readJSONL[T any](t testing.TB, path string) []T {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestStackFAQVectorOnly ranks the StackFAQ corpus by the embedder alone, in process, to tune
// the embedder (set TANDEM_STACKFAQ to the dataset folder; it logs recall@5 and MRR@10 and
// fails only if quality collapses).
func TestStackFAQVectorOnly(t *testing.T) {
	dir := os.Getenv("TANDEM_STACKFAQ")
	if dir == "" {
		t.Skip("TANDEM_STACKFAQ not set")
	}
	docs := readJSONL[corpusDoc](t, filepath.Join(dir, "corpus.jsonl"))
	qs := readJSONL[question](t, filepath.Join(dir, "dev_questions.jsonl"))
	cfg := Config{}
	if v := os.Getenv("TUNE_DIM"); v != "" {
		cfg.Dimension, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("TUNE_CW"); v != "" {
		cfg.CharWeight, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_BW"); v != "" {
		cfg.BigramWeight, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_TW"); v != "" {
		cfg.TitleWeight, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_MINIDF"); v != "" {
		cfg.MinIDF, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_IDFP"); v != "" {
		cfg.IDFPower, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_CMAX"); v != "" {
		cfg.CharMax, _ = strconv.Atoi(v)
	}
	h, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(docs))
	for i, d := range docs {
		rep, _ := strconv.Atoi(os.Getenv("TUNE_TREP"))
		texts[i] = strings.Repeat(d.Title+"\n", rep+1) + d.Text
	}
	st := NewStats()
	st.Add(h, texts...)
	h = h.WithStats(st)
	vecs, _ := h.EmbedDocuments(context.Background(), texts)
	var r1, r5, mrr float64
	mmrL, _ := strconv.ParseFloat(os.Getenv("TUNE_MMR"), 64)
	prfK, _ := strconv.Atoi(os.Getenv("TUNE_PRFK"))
	prfB, _ := strconv.ParseFloat(os.Getenv("TUNE_PRFB"), 64)
	for _, q := range qs {
		qv, _ := h.EmbedQuery(context.Background(), q.Question)
		type hit struct {
			i int
			s float32
		}
		rank := func() []hit {
			hits := make([]hit, len(vecs))
			for i, v := range vecs {
				var s float32
				for j := range v {
					s += v[j] * qv[j]
				}
				hits[i] = hit{i, s}
			}
			slices.SortFunc(hits, func(a, b hit) int {
				if a.s > b.s {
					return -1
				}
				if a.s < b.s {
					return 1
				}
				return 0
			})
			return hits
		}
		hits := rank()
		if prfK > 0 {
			nq := make([]float32, len(qv))
			for _, hh := range hits[:prfK] {
				for j := range nq {
					nq[j] += vecs[hh.i][j] * float32(prfB) / float32(prfK)
				}
			}
			for j := range nq {
				nq[j] += qv[j]
			}
			qv = nq
			hits = rank()
		}
		if mmrL > 0 {
			cand := hits[:30]
			var sel []hit
			used := make([]bool, len(cand))
			for len(sel) < 10 {
				bi, bs := -1, float32(-9)
				for ci, c := range cand {
					if used[ci] {
						continue
					}
					var mx float32
					for _, s := range sel {
						var d float32
						for j := range vecs[c.i] {
							d += vecs[c.i][j] * vecs[s.i][j]
						}
						mx = max(mx, d)
					}
					sc := float32(mmrL)*c.s - float32(1-mmrL)*mx
					if sc > bs {
						bi, bs = ci, sc
					}
				}
				used[bi] = true
				sel = append(sel, cand[bi])
			}
			hits = sel
		}
		if os.Getenv("TUNE_SHOW") != "" {
			found := false
			for _, hh := range hits[:5] {
				found = found || slices.Contains(q.DocIDs, docs[hh.i].ID)
			}
			if !found {
				want := ""
				for _, d := range docs {
					if d.ID == q.DocIDs[0] {
						want = d.Title
					}
				}
				t.Logf("MISS %q\n   got %q\n  want %q", q.Question, docs[hits[0].i].Title, want)
			}
		}
		for rank, hh := range hits[:10] {
			if slices.Contains(q.DocIDs, docs[hh.i].ID) {
				if rank < 1 {
					r1++
				}
				if rank < 5 {
					r5++
				}
				mrr += 1 / float64(rank+1)
				break
			}
		}
	}
	n := float64(len(qs))
	t.Logf("%s: recall@1 %.3f recall@5 %.3f mrr@10 %.3f", strings.TrimSpace(h.Name()), r1/n, r5/n, mrr/n)
	if r5/n < 0.5 {
		t.Errorf("recall@5 = %.3f, want >= 0.5", r5/n)
	}
}
