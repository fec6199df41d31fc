package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// readTSV reads "label<TAB>text" lines.
func readTSV(t *testing.T, name string) [][2]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][2]string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		label, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", name, line)
		}
		rows = append(rows, [2]string{label, text})
	}
	return rows
}

// TestQualityReport measures the demo content; it reports, it does not judge (the figures
// depend on the offline NLU and embedder). Run with
//
//	DEMO_REPORT=1 go test -run TestQualityReport -v ./bots/demo
//
// DEMO_GLOSSARY=<file with terms:> replaces the bot's glossary (empty terms: no glossary).
func TestQualityReport(t *testing.T) {
	if os.Getenv("DEMO_REPORT") == "" {
		t.Skip("set DEMO_REPORT=1 to measure")
	}
	ctx := context.Background()
	def := load(t)

	an, err := bots.OfflineNLU(ctx, def, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok, rows := 0, readTSV(t, "nlu_heldout.tsv")
	for _, r := range rows {
		got := an.Analyze(ctx, r[1]).Intent.Name
		if got == r[0] {
			ok++
		} else {
			t.Logf("nlu miss: want %s got %s: %q", r[0], got, r[1])
		}
	}
	t.Logf("NLU held-out intent accuracy: %d/%d", ok, len(rows))

	groups := def.Glossary
	if gf := os.Getenv("DEMO_GLOSSARY"); gf != "" {
		var gy struct {
			Terms [][]string `yaml:"terms"`
		}
		raw, err := os.ReadFile(gf)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, &gy); err != nil {
			t.Fatal(err)
		}
		groups = gy.Terms
	}
	var opts []retrieval.Option
	if len(groups) > 0 {
		g, err := retrieval.NewGlossary(groups)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, retrieval.WithGlossary(g))
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "q.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kb := retrieval.New(st, nil, opts...)
	if _, err := kb.IngestFS(ctx, "demo", def.KnowledgeFS, ".", nil); err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"retrieval_en.tsv", "retrieval_ja_tuned.tsv", "retrieval_ja_fresh.tsv"} {
		rows := readTSV(t, set)
		hit, confident := 0, 0
		for _, r := range rows {
			ps, err := kb.Search(ctx, r[1], storage.SearchFilter{Collections: []string{"demo"}, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 || ps[0].DocumentID != "demo/"+r[0] {
				t.Logf("retrieval miss (%s): want %s: %q", set, r[0], r[1])
				continue
			}
			hit++
			if ps[0].Similarity >= retrieval.DefaultThreshold {
				confident++
			}
		}
		t.Logf("%s: top-1 right %d/%d, right and above the answer threshold %d/%d", set, hit, len(rows), confident, len(rows))
	}
}
