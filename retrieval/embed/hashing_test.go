package embed

import (
	"context"
	"math"
	"testing"
)

func cos(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

func TestHashing(t *testing.T) {
	t.Parallel()
	h, err := New(Config{Dimension: 512}, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"How long does shipping take?", "Shipping takes three to five business days.",
		"Reset your password from the sign-in page.", "配送には3〜5営業日かかります。", "配送にはどのくらいかかりますか",
		"パスワードを再設定する方法",
	}
	st := NewStats()
	st.Add(h, texts...)
	h = h.WithStats(st)
	vs, err := h.EmbedDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Errorf("vector %d has norm² %v, want 1", i, n)
		}
		if len(v) != 512 {
			t.Errorf("vector %d has %d dimensions", i, len(v))
		}
	}
	tests := []struct {
		name         string
		q, near, far int
	}{
		{"OK/english", 0, 1, 2},
		{"OK/japanese", 4, 3, 5},
	}
	for _, tt := range tests {
		if a, b := cos(vs[tt.q], vs[tt.near]), cos(vs[tt.q], vs[tt.far]); a <= b {
			t.Errorf("%s: similarity to related %.3f <= unrelated %.3f", tt.name, a, b)
		}
	}
	again, _ := h.EmbedQuery(context.Background(), texts[0])
	if cos(again, vs[0]) < 0.9999 {
		t.Error("embedding is not deterministic")
	}
	if _, err := New(Config{Dimension: 4096}, nil); err == nil {
		t.Error("dimension 4096 accepted")
	}
}

func TestStatsRoundTrip(t *testing.T) {
	t.Parallel()
	h, _ := New(Config{}, nil)
	st := NewStats()
	st.Add(h, "one document", "another document", "日本語の文書")
	raw, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got := NewStats()
	if err := got.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	if got.Docs != st.Docs || len(got.DF) != len(st.DF) {
		t.Fatalf("got %d docs %d features, want %d %d", got.Docs, len(got.DF), st.Docs, len(st.DF))
	}
	for k, v := range st.DF {
		if got.DF[k] != v {
			t.Fatalf("df[%d] = %d, want %d", k, got.DF[k], v)
		}
	}
	if err := got.UnmarshalBinary([]byte("garbage")); err == nil {
		t.Error("garbage decoded")
	}
}

func FuzzEmbed(f *testing.F) {
	h, _ := New(Config{Dimension: 64}, nil)
	for _, s := range []string{"", "hello world", "日本語テキスト", "don't stop", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := h.Embed(s)
		if len(v) != 64 {
			t.Fatalf("len = %d", len(v))
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) {
				t.Fatal("NaN")
			}
		}
	})
}

func BenchmarkEmbed(b *testing.B) {
	h, _ := New(DefaultConfig(), nil)
	text := "Shipping times\nStandard shipping takes 3 to 5 business days within the country. Express shipping arrives the next business day when you order before 2 pm. International orders take 7 to 14 business days."
	for i := 0; i < b.N; i++ {
		h.Embed(text)
	}
}
