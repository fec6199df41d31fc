package retrieval_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
)

func TestGlossaryExpand(t *testing.T) {
	t.Parallel()
	g, err := retrieval.ParseGlossary(strings.NewReader("# c\nshipping, delivery = 配送\nrefund = 返金\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"配送はいつ？", "配送はいつ？ shipping delivery"},
		{"Refund please", "Refund please 返金"},
		{"reshipping", "reshipping"}, // Latin terms match whole words only
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := g.Expand(tt.in); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := retrieval.ParseGlossary(strings.NewReader("lonely\n")); err == nil {
		t.Error("a one-term group was accepted")
	}
	g2, err := retrieval.NewGlossary([][]string{{"Refund", "返金"}})
	if err != nil || g2.Expand("返金") != "返金 refund" {
		t.Errorf("NewGlossary: %v, %q", err, g2.Expand("返金"))
	}
	if _, err := retrieval.NewGlossary([][]string{{"alone", " "}}); err == nil {
		t.Error("NewGlossary accepted a one-term group")
	}
	var nilG *retrieval.Glossary
	if got := nilG.Expand("x"); got != "x" {
		t.Errorf("nil glossary expanded to %q", got)
	}
}

// crossLingual pairs questions with the article that answers them in the other language.
var crossLingual = []struct{ q, doc string }{
	{"配送にはどのくらい時間がかかりますか？", "demo/shipping"},
	{"海外への発送は何日かかりますか", "demo/shipping"},
	{"返品して返金してもらえますか", "demo/returns"},
	{"パスワードを再設定したい", "demo/password"},
	{"ギフトカードに有効期限はありますか", "demo/gift-cards"},
	{"分割払いはできますか", "demo/faq/payments#can-i-pay-in-installments"},
	{"How long does delivery take?", "ja/haiso"},
	{"I want a refund", "ja/henpin"},
}

func jaFS() fstest.MapFS {
	return fstest.MapFS{
		"haiso.md":  {Data: []byte("---\nid: haiso\ntitle: 配送について\nlanguage: ja\n---\n通常配送は3〜5営業日でお届けします。お急ぎ便は翌営業日に届きます。")},
		"henpin.md": {Data: []byte("---\nid: henpin\ntitle: 返品と返金\nlanguage: ja\n---\n商品到着後30日以内であれば返品できます。返金は5営業日以内にカードへ戻ります。")},
	}
}

// TestCrossLingualGlossary measures top-1 accuracy of questions asked in the other
// language than the articles, with and without the glossary; the glossary must help.
func TestCrossLingualGlossary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, err := retrieval.LoadGlossary("testdata/glossary.txt")
	if err != nil {
		t.Fatal(err)
	}
	score := func(opts ...retrieval.Option) int {
		f := setup(t, opts...)
		if _, err := f.kb.IngestFS(ctx, "ja", jaFS(), ".", nil); err != nil {
			t.Fatal(err)
		}
		hits := 0
		for _, c := range crossLingual {
			ps, err := f.kb.Search(ctx, c.q, storage.SearchFilter{Collections: []string{"demo", "ja"}, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 1 && ps[0].DocumentID == c.doc {
				hits++
			}
		}
		return hits
	}
	without, with := score(), score(retrieval.WithGlossary(g))
	t.Logf("cross-lingual top-1: %d/%d without glossary, %d/%d with", without, len(crossLingual), with, len(crossLingual))
	if with <= without || with < len(crossLingual)*3/4 {
		t.Errorf("glossary top-1 = %d/%d (without %d), want better and >= 75%%", with, len(crossLingual), without)
	}
}
