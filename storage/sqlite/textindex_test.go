package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// fts5Texts exercise the tokenizer: every Porter rule, case, diacritics, punctuation,
// digits, and scripts without spaces.
var fts5Texts = []string{
	"caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping tanned falling hissing fizzed failing filing happy sky",
	"relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti",
	"triplicate formative formalize electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous effective bowdlerize",
	"probate rate cease controll roll generalizations oscillators shipping shipped refunded refunds delivery deliveries payments accepted",
	"aed eed ing ed yes bye ay sses ies ss s is it's don't e-mail user_name x2 3rd 1,000.50 v1.2.3",
	"Résumé NAÏVE café Ångström façade jalapeño Øre Łódź straße ǖ ế Ǆ ﬁ",
	"re\u0301fund cafe\u0301s e\u0301 \u0301alone",
	"返金はできますか 配送にはどのくらい時間がかかりますか？ 通常配送は3〜5営業日でお届けします。お急ぎ便は翌営業日に届きます。",
	"パスワードを再設定したい ギフトカード iPhoneケース 中文分词 한국어 텍스트",
	"Привет МИР Ελληνικά ΚΕΙΜΕΝΟ",
	"How do I get my money refunded? Shipping takes 3-5 business days; express: 1 day.",
	strings.Repeat("a", 70) + "ing " + strings.Repeat("b", 60) + "ational",
}

// tokens returns the tokens of s.
func tokens(s string) []string {
	var out []string
	tokenize(s, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

// newFTS5 opens an in-memory database with an FTS5 table shaped like the one the index
// replaced.
func newFTS5(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE VIRTUAL TABLE f USING fts5 (title, heading, text, tokenize = 'porter unicode61')`,
		`CREATE VIRTUAL TABLE v USING fts5vocab (f, 'instance')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestTokenizeMatchesFTS5(t *testing.T) {
	t.Parallel()
	db := newFTS5(t)
	for i, text := range fts5Texts {
		if _, err := db.Exec(`INSERT INTO f (rowid, title, heading, text) VALUES (?, '', '', ?)`, i+1, text); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`SELECT term FROM v WHERE doc = ? ORDER BY offset`, i+1)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var term string
			if err := rows.Scan(&term); err != nil {
				t.Fatal(err)
			}
			want = append(want, term)
		}
		rows.Close()
		got := tokens(text)
		if !slices.Equal(got, want) {
			t.Errorf("text %d:\n got %q\nwant %q", i, got, want)
		}
	}
}

func TestNormalizeTerm(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"refunded", "refund"}, {"Shipping", "ship"}, {"réfund", "refund"}, {"返金", "返金"}, {"\u0301", ""}, {"a", "a"},
	}
	for _, tt := range tests {
		if got := normalizeTerm(tt.in); got != tt.want {
			t.Errorf("normalizeTerm(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// textDoc is one document of the generated collections below.
type textDoc struct {
	title  string
	chunks [][2]string // heading, text
	status tandem.DocumentStatus
	lang   string
	tags   []string
}

var textWords = strings.Fields("refund refunds refunded shipping ship delivery parcel courier invoice password reset account " +
	"payment card gift voucher return returns order orders tracking international express days business the and of to a " +
	"warranty battery screen damaged broken 返金 配送 café cafe résumé")

func genTextDocs(rng *rand.Rand, n int) []textDoc {
	phrase := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = textWords[rng.IntN(len(textWords))]
		}
		return strings.Join(w, " ")
	}
	docs := make([]textDoc, n)
	for i := range docs {
		d := textDoc{title: phrase(1 + rng.IntN(3)), status: tandem.DocumentPublished, lang: "en", tags: []string{}}
		if i%3 == 0 {
			d.status = tandem.DocumentDraft
		}
		if i%4 == 0 {
			d.lang = "fr"
		}
		if i%5 == 0 {
			d.tags = []string{"t" + fmt.Sprint(i%2)}
		}
		for range 1 + rng.IntN(3) {
			d.chunks = append(d.chunks, [2]string{phrase(rng.IntN(3)), phrase(3 + rng.IntN(30))})
		}
		docs[i] = d
	}
	return docs
}

// TestSearchTextMatchesFTS5 checks the in-memory ranking against FTS5's
// bm25(chunks_fts, 3.0, 2.0, 1.0) on the same chunks: same chunks, same order, same scores.
func TestSearchTextMatchesFTS5(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	db := newFTS5(t)
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(ctx, path, Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb"}); err != nil {
		t.Fatal(err)
	}
	// Documents are written, some rewritten and some deleted; the index built by these
	// updates is compared, then the one loaded when the store is opened again.
	put := func(i int, d textDoc) {
		doc := &tandem.Document{ID: fmt.Sprint("d", i), Collection: "kb", Title: d.title, ContentHash: fmt.Sprint(rng.Int()), Status: d.status, Language: d.lang, Tags: d.tags}
		var chunks []tandem.Chunk
		for j, c := range d.chunks {
			chunks = append(chunks, tandem.Chunk{Ordinal: j, Heading: c[0], Text: c[1]})
		}
		if _, err := s.PutDocument(ctx, doc, chunks); err != nil {
			t.Fatal(err)
		}
	}
	docs := genTextDocs(rng, 300)
	for i, d := range docs[:200] {
		put(i, d)
	}
	if _, err := s.SearchText(ctx, "refund", storage.SearchFilter{Collections: []string{"kb"}}); err != nil {
		t.Fatal(err)
	}
	for i, d := range docs[200:] {
		put(200+i, d)
	}
	for i := 0; i < 300; i += 7 {
		put(i, genTextDocs(rng, 1)[0])
	}
	for i := 3; i < 300; i += 11 {
		if err := s.DeleteDocument(ctx, fmt.Sprint("d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Mirror the store's chunks into FTS5 with their seq as rowid.
	rows, err := s.r.QueryContext(ctx, `SELECT c.seq, d.title, c.heading, c.text FROM chunks c JOIN documents d ON d.id = c.document_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		var title, heading, text string
		if err := rows.Scan(&seq, &title, &heading, &text); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO f (rowid, title, heading, text) VALUES (?, ?, ?, ?)`, seq, title, heading, text); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	compare := func(s *Store) {
		t.Helper()
		for _, q := range []string{"refund", "How do I get my money refunded?", "shipping delivery days", "the and of", "返金", "cafe", "résumé", "gift card voucher payment", "zzz"} {
			for _, limit := range []int{1, 10, 1000} {
				got, err := s.SearchText(ctx, q, storage.SearchFilter{Collections: []string{"kb"}, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				want := fts5Search(t, db, q, limit)
				if len(got) != len(want) {
					t.Fatalf("%q limit %d: %d hits, FTS5 %d", q, limit, len(got), len(want))
				}
				for i := range got {
					seq := s.chunkSeq(t, got[i].ID)
					if seq != want[i].seq || math.Abs(got[i].Score-want[i].score) > 1e-9*math.Abs(want[i].score) {
						t.Fatalf("%q limit %d, hit %d: seq %d score %v, FTS5 seq %d score %v", q, limit, i, seq, got[i].Score, want[i].seq, want[i].score)
					}
				}
			}
		}
	}
	compare(s)
	s.Close()
	if s, err = Open(ctx, path, Config{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	compare(s)
}

type fts5Hit struct {
	seq   int64
	score float64
}

func fts5Search(t *testing.T, db *sql.DB, q string, limit int) []fts5Hit {
	t.Helper()
	var terms []string
	for _, term := range storage.QueryTerms(q) {
		terms = append(terms, `"`+term+`"`)
	}
	rows, err := db.Query(`SELECT rowid, -bm25(f, 3.0, 2.0, 1.0) AS score FROM f WHERE f MATCH ? ORDER BY score DESC, rowid LIMIT ?`, strings.Join(terms, " OR "), limit)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []fts5Hit
	for rows.Next() {
		var h fts5Hit
		if err := rows.Scan(&h.seq, &h.score); err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

func (s *Store) chunkSeq(t *testing.T, id string) int64 {
	t.Helper()
	var seq int64
	if err := s.r.QueryRow(`SELECT seq FROM chunks WHERE id = ?`, id).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestTextIndexRemove checks the swap-removals keep every posting and reference in step:
// after random adds and removals the index equals one built from the survivors.
func TestTextIndexRemove(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	ti := newTextIndex()
	live := map[string]entry{}
	meta := &docMeta{title: "refund policy"}
	for i := range 2000 {
		id := fmt.Sprint("c", rng.IntN(400))
		if rng.IntN(3) == 0 {
			ti.remove(id)
			delete(live, id)
			continue
		}
		d := genTextDocs(rng, 1)[0]
		e := entry{id: id, seq: int64(i), heading: d.chunks[0][0], text: d.chunks[0][1], meta: meta}
		ti.set(e, meta.title)
		live[id] = e
	}
	want := newTextIndex()
	for _, e := range live {
		want.set(e, meta.title)
	}
	if len(ti.chunks) != len(live) || len(ti.slotOf) != len(live) || ti.tokens != want.tokens || len(ti.termOf) != len(want.termOf) {
		t.Fatalf("%d chunks, %d slots, %d tokens, %d terms; want %d, %d, %d, %d", len(ti.chunks), len(ti.slotOf), ti.tokens, len(ti.termOf), len(live), len(live), want.tokens, len(want.termOf))
	}
	for term, id := range ti.termOf {
		got := map[string]float32{}
		for _, p := range ti.terms[id].list {
			got[ti.chunks[p.slot].id] = p.tf
		}
		exp := map[string]float32{}
		for _, p := range want.postings(term) {
			exp[want.chunks[p.slot].id] = p.tf
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("term %q: postings %v, want %v", term, got, exp)
		}
	}
	for slot, c := range ti.chunks {
		if ti.slotOf[c.id] != uint32(slot) {
			t.Errorf("chunk %s at slot %d, map says %d", c.id, slot, ti.slotOf[c.id])
		}
		for _, r := range c.refs {
			if p := ti.terms[r.term].list[r.pos]; p.slot != uint32(slot) {
				t.Errorf("chunk %s: reference to term %q points at slot %d", c.id, ti.terms[r.term].term, p.slot)
			}
		}
	}
}

// TestSearchTextSeesKnowledgeWrites: full-text searches read the in-memory index, which
// every knowledge write (put, status, delete) must update before its call returns.
func TestSearchTextSeesKnowledgeWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: 2}); err != nil {
		t.Fatal(err)
	}
	put := func(title string) *tandem.Document {
		d := &tandem.Document{Collection: "kb", Title: title, ContentHash: title, Status: tandem.DocumentPublished}
		if _, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "refund policy"}}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	search := func() []string {
		hits, err := s.SearchText(ctx, "refund", storage.SearchFilter{Status: tandem.DocumentPublished})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.DocumentTitle)
		}
		slices.Sort(out)
		return out
	}
	a := put("a")
	for _, tt := range []struct {
		name  string
		write func()
		want  []string
	}{
		{"OKFirst", func() {}, []string{"a"}},
		{"OKPut", func() { put("b") }, []string{"a", "b"}},
		{"OKStatus", func() {
			if err := s.SetDocumentStatus(ctx, a.ID, tandem.DocumentDraft); err != nil {
				t.Fatal(err)
			}
		}, []string{"b"}},
		{"OKDelete", func() {
			if err := s.DeleteDocument(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			put("c")
		}, []string{"b", "c"}},
	} {
		tt.write()
		if got := search(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzSearchText checks that no input fails a search or yields a term the index cannot hold.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"refund", `"`, "a OR b", "NEAR(a b)", "x:*", "返金", "\xff\x00", "(((", "-a +b ^c"} {
		f.Add(s)
	}
	s, err := Open(context.Background(), ":memory:", Config{Migrate: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "c"}); err != nil {
		f.Fatal(err)
	}
	if _, err := s.PutDocument(ctx, &tandem.Document{Collection: "c", Title: "Refund", ContentHash: "h"}, []tandem.Chunk{{Text: "refund within 30 days"}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		// Every query term must be one token, or a multi-word term would need phrase matching.
		for _, term := range storage.QueryTerms(q) {
			if toks := tokens(term); len(toks) > 1 {
				t.Fatalf("query term %q of %q is %d tokens %q", term, q, len(toks), toks)
			}
		}
		if _, err := s.SearchText(ctx, q, storage.SearchFilter{}); err != nil {
			t.Fatalf("SearchText(%q): %v", q, err)
		}
	})
}
