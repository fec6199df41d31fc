package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/tmc/langchaingo/documentloaders"
	"github.com/tmc/langchaingo/schema"
	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
)

// MaxFileBytes is the largest file LoadFS reads.
const MaxFileBytes = 32 << 20

// Supported reports whether LoadFile understands the file name's extension.
func Supported(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf", ".csv", ".jsonl":
		return true
	}
	return false
}

// LoadFS reads every supported file under root in fsys (root may name a single file) and
// returns their sources in path order. IDs default to the path relative to root without
// its extension. Hidden files and folders (starting with ".") are skipped.
func LoadFS(ctx context.Context, fsys fs.FS, root string) ([]Source, error) {
	root = path.Clean(strings.TrimPrefix(root, "./"))
	if root == "" {
		root = "."
	}
	info, err := fs.Stat(fsys, root)
	if err != nil {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "%s: %v", root, err)
	}
	var files []string
	if !info.IsDir() {
		files = []string{root}
	} else {
		err = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() && Supported(p) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", root, err)
		}
	}
	var out []Source
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := readLimited(fsys, f)
		if err != nil {
			return nil, err
		}
		rel := f
		if info.IsDir() && root != "." {
			rel = strings.TrimPrefix(f, root+"/")
		} else if !info.IsDir() {
			rel = path.Base(f)
		}
		srcs, err := LoadFile(ctx, rel, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range srcs {
			srcs[i].Origin = f
		}
		out = append(out, srcs...)
	}
	return out, nil
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, tandem.Errorf(tandem.ETOOLARGE, "%s is larger than %d bytes", name, MaxFileBytes)
	}
	return data, nil
}

// LoadFile parses one file's contents by its name's extension. name (a relative path)
// provides the default ID and title.
func LoadFile(ctx context.Context, name string, data []byte) ([]Source, error) {
	ext := strings.ToLower(path.Ext(name))
	base := strings.TrimSuffix(name, path.Ext(name))
	switch ext {
	case ".md", ".markdown":
		return []Source{parseMarkdown(base, data)}, nil
	case ".txt", ".text":
		docs, err := documentloaders.NewText(bytes.NewReader(data)).Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("load text: %w", err)
		}
		return []Source{{ID: base, Title: titleFromPath(base), Body: joinPages(docs), Kind: KindText}}, nil
	case ".html", ".htm":
		title := htmlTitle(data)
		docs, err := documentloaders.NewHTML(bytes.NewReader(prepareHTML(data))).Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("load html: %w", err)
		}
		if title == "" {
			title = titleFromPath(base)
		}
		body := squeezeBlankLines(html.UnescapeString(joinPages(docs)))
		return []Source{{ID: base, Title: title, Body: body, Kind: KindMarkdown}}, nil
	case ".pdf":
		docs, err := documentloaders.NewPDF(bytes.NewReader(data), int64(len(data))).Load(ctx)
		if err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "cannot read PDF: %v", err)
		}
		return []Source{{ID: base, Title: titleFromPath(base), Body: joinPages(docs), Kind: KindText}}, nil
	case ".csv":
		return parseFAQCSV(base, data)
	case ".jsonl":
		return parseJSONL(base, data)
	}
	return nil, tandem.Errorf(tandem.EINVALID, "unsupported file type %q", ext)
}

func joinPages(docs []schema.Document) string {
	parts := make([]string, 0, len(docs))
	for _, d := range docs {
		if t := strings.TrimSpace(d.PageContent); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n\n")
}

var (
	htmlDropRE    = regexp.MustCompile(`(?is)<script\b.*?</script>|<style\b.*?</style>|<noscript\b.*?</noscript>|<head\b.*?</head>|<!--.*?-->`)
	htmlHeadingRE = regexp.MustCompile(`(?i)<h([1-6])\b[^>]*>`)
	htmlBlockRE   = regexp.MustCompile(`(?i)</(p|div|h[1-6]|li|tr|section|article|table|ul|ol|blockquote|pre)>|<br\s*/?>`)
)

// prepareHTML removes what is not content and turns headings into Markdown ones, so the
// loader's text keeps the structure the Markdown chunker needs.
func prepareHTML(data []byte) []byte {
	out := htmlDropRE.ReplaceAll(data, nil)
	out = htmlHeadingRE.ReplaceAllFunc(out, func(m []byte) []byte {
		n := int(m[2] - '0')
		return []byte("\n\n" + strings.Repeat("#", n) + " ")
	})
	return htmlBlockRE.ReplaceAll(out, []byte("$0\n\n"))
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

func htmlTitle(data []byte) string {
	m := titleRE.FindSubmatch(data)
	if m == nil {
		return ""
	}
	return strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " ")
}

func squeezeBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func titleFromPath(p string) string {
	t := strings.NewReplacer("-", " ", "_", " ").Replace(path.Base(p))
	if t == "" {
		return p
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

// frontMatter is the YAML header of a Markdown article.
type frontMatter struct {
	ID       string   `yaml:"id"`
	Title    string   `yaml:"title"`
	URL      string   `yaml:"url"`
	Tags     []string `yaml:"tags"`
	Language string   `yaml:"language"`
	Lang     string   `yaml:"lang"`
	Status   string   `yaml:"status"`
}

func parseMarkdown(base string, data []byte) Source {
	text := strings.ReplaceAll(string(bytes.TrimPrefix(data, []byte("\ufeff"))), "\r\n", "\n")
	src := Source{ID: base, Kind: KindMarkdown}
	if strings.HasPrefix(text, "---\n") {
		if head, rest, ok := strings.Cut(text[4:], "\n---"); ok {
			var fm frontMatter
			if err := yaml.Unmarshal([]byte(head), &fm); err == nil {
				text = strings.TrimPrefix(strings.TrimPrefix(rest, "-"), "\n")
				src.ID = firstNonEmpty(fm.ID, base)
				src.Title, src.URL, src.Tags = fm.Title, fm.URL, fm.Tags
				src.Language = firstNonEmpty(fm.Language, fm.Lang)
				src.Status = tandem.DocumentStatus(fm.Status)
			}
		}
	}
	// A leading "# Title" is the title when the front matter has none.
	trimmed := strings.TrimSpace(text)
	if level, title, ok := markdownHeading(strings.SplitN(trimmed, "\n", 2)[0]); ok && level == 1 {
		if src.Title == "" {
			src.Title = title
		}
		_, trimmed, _ = strings.Cut(trimmed, "\n")
	}
	if src.Title == "" {
		src.Title = titleFromPath(base)
	}
	src.Body = strings.TrimSpace(trimmed)
	return src
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// parseFAQCSV reads question,answer[,url,tags][,id] with a header row naming the columns.
func parseFAQCSV(base string, data []byte) ([]Source, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, tandem.Errorf(tandem.EINVALID, "FAQ CSV has no header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	qi, qok := col["question"]
	ai, aok := col["answer"]
	if !qok || !aok {
		return nil, tandem.Errorf(tandem.EINVALID, "FAQ CSV header must name question and answer columns, got %q", header)
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []Source
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "FAQ CSV: %v", err)
		}
		if qi >= len(rec) || ai >= len(rec) || strings.TrimSpace(rec[qi]) == "" {
			continue
		}
		q := strings.TrimSpace(rec[qi])
		id := field(rec, "id")
		if id == "" {
			id = base + "#" + slug(q)
		}
		out = append(out, Source{
			ID: id, Title: q, Body: strings.TrimSpace(rec[ai]), Kind: KindFAQ,
			URL: field(rec, "url"), Tags: splitTags(field(rec, "tags")), Language: field(rec, "language"),
		})
	}
	return out, nil
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// jsonlRecord is one line of a JSONL FAQ or corpus file.
type jsonlRecord struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Question string          `json:"question"`
	Text     string          `json:"text"`
	Answer   string          `json:"answer"`
	URL      string          `json:"url"`
	Tags     json.RawMessage `json:"tags"`
	Language string          `json:"language"`
}

func parseJSONL(base string, data []byte) ([]Source, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxFileBytes)
	var out []Source
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec jsonlRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "line %d: %v", line, err)
		}
		title := firstNonEmpty(rec.Title, rec.Question)
		body := firstNonEmpty(rec.Text, rec.Answer)
		id := rec.ID
		if id == "" {
			id = fmt.Sprintf("%s#%d", base, line)
		}
		var tags []string
		if len(rec.Tags) > 0 {
			var list []string
			if json.Unmarshal(rec.Tags, &list) == nil {
				tags = list
			} else {
				var s string
				_ = json.Unmarshal(rec.Tags, &s)
				tags = splitTags(s)
			}
		}
		out = append(out, Source{ID: id, Title: title, Body: body, Kind: KindFAQ, URL: rec.URL, Tags: tags, Language: rec.Language})
	}
	if err := sc.Err(); err != nil {
		return nil, tandem.Errorf(tandem.EINVALID, "JSONL: %v", err)
	}
	return out, nil
}

// slug makes a stable, readable id fragment from a question.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r > 0x7f && (r != 0x3000):
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
