package ingest

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem"
)

func TestLoadFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"kb/a.md":         {Data: []byte("---\nid: art-a\ntitle: Article A\ntags: [x, y]\nurl: https://e.com/a\nlanguage: en\nstatus: draft\n---\nIntro text.\n\n## Part one\nFirst.\n\n### Detail\nDeep.\n\n## Part two\nSecond.\n")},
		"kb/b.md":         {Data: []byte("# Heading Title\n\nBody of b.\n")},
		"kb/faq.csv":      {Data: []byte("question,answer,url,tags\nHow?,\"Like this, exactly.\",https://e.com/how,\"t1,t2\"\n,skipped,,\n")},
		"kb/faq.jsonl":    {Data: []byte(`{"id":"j1","title":"Q1","text":"A1","url":"https://e.com/j1","tags":["t"]}` + "\n\n" + `{"question":"Q2","answer":"A2"}` + "\n")},
		"kb/page.html":    {Data: []byte("<html><head><title>Page &amp; Title</title></head><body><h1>Hello</h1><p>World text.</p><script>ignored()</script></body></html>")},
		"kb/notes.txt":    {Data: []byte("Plain text notes.")},
		"kb/.hidden/x.md": {Data: []byte("hidden")},
		"kb/image.png":    {Data: []byte("png")},
	}
	srcs, err := LoadFS(context.Background(), fsys, "kb")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	tests := []struct {
		id, title, body string
		kind            Kind
	}{
		{"art-a", "Article A", "Intro text.", KindMarkdown},
		{"b", "Heading Title", "Body of b.", KindMarkdown},
		{"faq#how", "How?", "Like this, exactly.", KindFAQ},
		{"j1", "Q1", "A1", KindFAQ},
		{"faq#3", "Q2", "A2", KindFAQ},
		{"page", "Page & Title", "World text.", KindMarkdown},
		{"notes", "Notes", "Plain text notes.", KindText},
	}
	if len(srcs) != len(tests) {
		t.Errorf("got %d sources, want %d: %v", len(srcs), len(tests), byID)
	}
	for _, tt := range tests {
		s, ok := byID[tt.id]
		if !ok {
			t.Errorf("missing %s", tt.id)
			continue
		}
		if s.Title != tt.title || !strings.Contains(s.Body, tt.body) || s.Kind != tt.kind {
			t.Errorf("%s = %+v", tt.id, s)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", tt.id, err)
		}
	}
	a := byID["art-a"]
	if a.URL != "https://e.com/a" || len(a.Tags) != 2 || a.Language != "en" || a.Status != tandem.DocumentDraft || a.Origin != "kb/a.md" {
		t.Errorf("front matter = %+v", a)
	}
	if got := byID["faq#how"].Tags; len(got) != 2 || got[1] != "t2" {
		t.Errorf("csv tags = %v", got)
	}
	if b := byID["page"].Body; strings.Contains(b, "ignored()") || !strings.Contains(b, "# Hello") {
		t.Errorf("html body keeps script: %q", byID["page"].Body)
	}
	// A single file works too.
	one, err := LoadFS(context.Background(), fsys, "kb/b.md")
	if err != nil || len(one) != 1 || one[0].ID != "b" {
		t.Errorf("single file = %+v, %v", one, err)
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("This sentence is part of a long section. ", 80)
	tests := []struct {
		name         string
		src          Source
		wantHeadings []string
	}{
		{"OK/markdownSections", Source{Kind: KindMarkdown, Title: "T", Body: "Intro.\n\n## A\nText a.\n\n### A1\nText a1.\n\n```\n# not a heading\n```\n\n## B\nText b."},
			[]string{"", "A", "A > A1", "B"}},
		{"OK/faqWhole", Source{Kind: KindFAQ, Title: "Q?", Body: long}, []string{"Q?"}},
		{"OK/longTextSplit", Source{Kind: KindText, Title: "T", Body: long}, []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := Splitter{}.Split(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) < len(tt.wantHeadings) || (tt.src.Kind != KindText && len(ps) != len(tt.wantHeadings)) {
				t.Fatalf("pieces = %+v, want %d", ps, len(tt.wantHeadings))
			}
			for i, h := range tt.wantHeadings {
				if ps[i].Heading != h {
					t.Errorf("piece %d heading = %q, want %q", i, ps[i].Heading, h)
				}
				if tt.src.Kind == KindText && runeLen(ps[i].Text) > 1200 {
					t.Errorf("piece %d has %d runes", i, runeLen(ps[i].Text))
				}
			}
			if tt.name == "OK/markdownSections" && !strings.Contains(ps[2].Text, "# not a heading") {
				t.Errorf("fenced code lost: %+v", ps)
			}
		})
	}
}

func TestSourceHash(t *testing.T) {
	t.Parallel()
	a := Source{ID: "x", Title: "T", Body: "B", Tags: []string{"b", "a"}}
	b := a
	b.Tags = []string{"a", "b"}
	b.Status = tandem.DocumentDraft
	if a.Hash() != b.Hash() {
		t.Error("tag order or status changed the hash")
	}
	b.Body = "C"
	if a.Hash() == b.Hash() {
		t.Error("body change kept the hash")
	}
}

func FuzzLoadFile(f *testing.F) {
	f.Add("a.md", "---\nid: x\n---\n# T\nbody")
	f.Add("a.csv", "question,answer\nq,a\n")
	f.Add("a.jsonl", `{"id":"1","title":"t","text":"x"}`)
	f.Add("a.html", "<p>x</p>")
	f.Fuzz(func(t *testing.T, name, data string) {
		srcs, err := LoadFile(context.Background(), name, []byte(data))
		if err != nil {
			return
		}
		for _, s := range srcs {
			if _, err := (Splitter{}).Split(s); err != nil {
				t.Fatal(err)
			}
		}
	})
}
