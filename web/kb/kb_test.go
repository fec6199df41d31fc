package kb_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
	"github.com/tandemhq/tandem/web/kb"
)

// fixture is a fresh editor over a real SQLite store and knowledge base.
type fixture struct {
	store *sqlite.Store
	kb    *retrieval.KnowledgeBase
	h     http.Handler
}

const (
	shippingID = "default/faq/shipping"
	returnsID  = "default/guides/returns"
)

func setup(t testing.TB, cfg kb.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kb.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	k := retrieval.New(store, nil, retrieval.WithLogger(slog.New(slog.DiscardHandler)))
	srcs := []retrieval.Source{
		{ID: "faq/shipping", Title: "How long does shipping take?", Body: "Standard shipping takes 3 to 5 business days. Express shipping arrives the next day.",
			Kind: ingest.KindFAQ, Tags: []string{"shipping"}, URL: "https://example.com/shipping"},
		{ID: "guides/returns", Title: "Returns and refunds", Body: "## Returning an item\nYou can return any item within 30 days of delivery.\n\n## Refunds\nRefunds reach your card within 5 days.",
			Kind: ingest.KindMarkdown, Tags: []string{"returns", "billing"}, Status: tandem.DocumentDraft},
		{ID: "faq/payment", Title: "Which payment methods do you accept?", Body: "We accept Visa, Mastercard and PayPal.", Kind: ingest.KindFAQ, Tags: []string{"billing"}},
	}
	if _, err := k.Ingest(ctx, "default", srcs, nil); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &fixture{store: store, kb: k, h: kb.New(cfg, kb.Deps{KB: k, Store: store})}
}

// do serves one request and returns the response and its body.
func (f *fixture) do(t *testing.T, r *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func form(method, target string, v url.Values) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func (f *fixture) doc(t *testing.T, id string) *tandem.Document {
	t.Helper()
	d, err := f.store.FindDocumentByID(context.Background(), id)
	if err != nil {
		t.Fatalf("find %s: %v", id, err)
	}
	return d
}

func (f *fixture) audit(t *testing.T, action string) []tandem.AuditEntry {
	t.Helper()
	es, err := f.store.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatalf("list audit: %v", err)
	}
	return es
}

func TestReadRoutes(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{PageSize: 2})
	tests := []struct {
		name, target string
		status       int
		want, not    []string
	}{
		{"ListOK", "/kb/", 200, []string{"How long does shipping take?", "Returns and refunds", "v1", "Next →"}, nil},
		{"ListPage2", "/kb/?page=2", 200, []string{"Which payment methods", "← Previous"}, []string{"Next →"}},
		{"ListTitleSearch", "/kb/?q=refund", 200, []string{"Returns and refunds"}, []string{"shipping take"}},
		{"ListStatusDraft", "/kb/?status=draft", 200, []string{"Returns and refunds", "badge-draft"}, []string{"shipping take"}},
		{"ListTag", "/kb/?tag=billing", 200, []string{"Returns and refunds"}, []string{"shipping take"}},
		{"ListCollectionNone", "/kb/?collection=other", 200, []string{"No documents match"}, nil},
		{"ErrListBadStatus", "/kb/?status=weird", 400, []string{"status must be draft, in_review or published"}, nil},
		{"ErrListBadPage", "/kb/?page=-1", 400, nil, nil},
		{"DocOK", "/kb/docs/" + returnsID, 200, []string{"Returns and refunds", "Returning an item", "within 30 days", "Refunds reach", "returns", "draft"}, nil},
		{"DocEscapedID", "/kb/docs/default/faq%2Fshipping", 200, []string{"Standard shipping takes"}, nil},
		{"ErrDocNotFound", "/kb/docs/default/nope", 404, []string{"no document"}, nil},
		{"ErrDocInternalHidden", "/kb/docs/default/.tandem/embedder-stats", 404, nil, nil},
		{"ListHidesInternal", "/kb/?q=embedder", 200, []string{"No documents match"}, []string{"embedder statistics"}},
		{"EditForm", "/kb/docs/" + shippingID + "/edit", 200, []string{`name="title"`, "How long does shipping take?", "https://example.com/shipping"}, nil},
		{"ErrEditNotFound", "/kb/docs/default/nope/edit", 404, nil, nil},
		{"DeleteConfirm", "/kb/docs/" + shippingID + "/delete", 200, []string{"Delete “How long does shipping take?”?", `name="confirm"`}, nil},
		{"NewForm", "/kb/new?title=Gift+cards", 200, []string{"New article", `value="Gift cards"`}, nil},
		{"TryEmpty", "/kb/try", 200, []string{"Try a question"}, []string{"Retrieved passages"}},
		{"TryPublished", "/kb/try?q=how+long+does+shipping+take", 200, []string{"Standard shipping takes 3 to 5 business days", "How long does shipping take?", "Retrieved passages", `id="confidence"`, "extractive"}, nil},
		{"TryDraftsExcluded", "/kb/try?q=refund+card+return+item", 200, nil, []string{"Refunds reach your card"}},
		{"TryDraftsIncluded", "/kb/try?q=refund+card+return+item&drafts=on", 200, []string{"Refunds reach your card"}, nil},
		{"TryNoAnswer", "/kb/try?q=zebra+quantum+violin", 200, []string{"No answer."}, nil},
		{"ErrTryUnknownCollection", "/kb/try?q=x&collection=nope", 404, nil, nil},
		{"ErrTryTooLong", "/kb/try?q=" + strings.Repeat("a", 1001), 413, nil, nil},
		{"IngestForm", "/kb/ingest", 200, []string{`enctype="multipart/form-data"`, "10 MiB"}, nil},
		{"ErrNoJob", "/kb/ingest/nope", 404, nil, nil},
		{"ErrNoJobEvents", "/kb/ingest/nope/events", 404, nil, nil},
		{"Static", "/kb/static/kb.css", 200, []string{"--accent"}, nil},
		{"ErrUnknownPage", "/kb/whatever", 404, nil, nil},
		{"Escaped", "/kb/?q=%3Cscript%3Ealert(1)%3C/script%3E", 200, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script>alert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := f.do(t, httptest.NewRequest("GET", tt.target, nil))
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body:\n%s", res.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("body has %q", n)
				}
			}
		})
	}
}

func TestMethodAndOrigin(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{})
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"ErrGetPublish", func() *http.Request { return httptest.NewRequest("GET", "/kb/docs/"+shippingID+"/publish", nil) }, 405},
		{"ErrGetUnpublish", func() *http.Request { return httptest.NewRequest("GET", "/kb/docs/"+shippingID+"/unpublish", nil) }, 405},
		{"ErrPostDocView", func() *http.Request { return form("POST", "/kb/docs/"+shippingID, nil) }, 405},
		{"ErrPostTry", func() *http.Request { return form("POST", "/kb/try", nil) }, 405},
		{"ErrDeleteMethod", func() *http.Request { return httptest.NewRequest("DELETE", "/kb/docs/"+shippingID, nil) }, 405},
		{"ErrCrossSitePublish", func() *http.Request {
			r := form("POST", "/kb/docs/"+shippingID+"/unpublish", nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}, 403},
		{"ErrCrossOriginDelete", func() *http.Request {
			r := form("POST", "/kb/docs/"+shippingID+"/delete", url.Values{"confirm": {"yes"}})
			r.Header.Set("Origin", "https://evil.example")
			return r
		}, 403},
		{"ErrCrossSiteUpload", func() *http.Request {
			r := upload(t, "a.md", []byte("# A\nText."), nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}, 403},
		{"ErrCrossSiteNew", func() *http.Request {
			r := form("POST", "/kb/new", url.Values{"title": {"T"}, "body": {"B"}})
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}, 403},
		{"SameOriginGetAllowed", func() *http.Request {
			r := httptest.NewRequest("GET", "/kb/", nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := f.do(t, tt.req())
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body:\n%s", res.StatusCode, tt.status, body)
			}
		})
	}
	// The refused requests changed nothing.
	if d := f.doc(t, shippingID); d.Status != tandem.DocumentPublished {
		t.Errorf("status after refused requests = %s, want published", d.Status)
	}
	if es := f.audit(t, ""); len(es) != 0 {
		t.Errorf("audit after refused requests = %+v, want none", es)
	}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"OK", nil, 200},
		{"ErrUnauthorized", tandem.Errorf(tandem.EUNAUTHORIZED, "sign in"), 401},
		{"ErrForbidden", tandem.Errorf(tandem.EFORBIDDEN, "not an editor"), 403},
		{"ErrOther", io.EOF, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, kb.Config{Authorize: func(*http.Request) error { return tt.err }})
			res, _ := f.do(t, httptest.NewRequest("GET", "/kb/", nil))
			if res.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{MaxFormBytes: 4096})
	ctx := context.Background()
	before := f.doc(t, shippingID)
	oldChunks, _ := f.store.ListChunks(ctx, shippingID)
	edit := url.Values{"title": {before.Title}, "body": {"Standard shipping takes 2 to 4 business days."}, "tags": {"shipping, Delivery"}, "url": {before.URL}}

	tests := []struct {
		name     string
		values   url.Values
		status   int
		location string
		version  int
		want     string
	}{
		{"ErrNoTitle", url.Values{"title": {""}, "body": {"x"}}, 400, "", 1, "A title is required."},
		{"ErrBadURL", url.Values{"title": {"T"}, "body": {"x"}, "url": {"javascript:alert(1)"}}, 400, "", 1, "The URL must start with"},
		{"ErrTooLarge", url.Values{"title": {"T"}, "body": {strings.Repeat("x", 5000)}}, 413, "", 1, ""},
		{"OK", edit, 303, "/kb/docs/" + shippingID + "?done=saved", 2, ""},
		{"Unchanged", edit, 303, "/kb/docs/" + shippingID + "?done=unchanged", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := f.do(t, form("POST", "/kb/docs/"+shippingID+"/edit", tt.values))
			if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
				t.Fatalf("got %d → %q, want %d → %q; body:\n%s", res.StatusCode, res.Header.Get("Location"), tt.status, tt.location, body)
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("body lacks %q:\n%s", tt.want, body)
			}
			if got := f.doc(t, shippingID).Version; got != tt.version {
				t.Errorf("version = %d, want %d", got, tt.version)
			}
		})
	}
	after := f.doc(t, shippingID)
	if after.Status != tandem.DocumentDraft || after.Body != "Standard shipping takes 2 to 4 business days." || strings.Join(after.Tags, ",") != "shipping,delivery" {
		t.Errorf("saved document = %+v", after)
	}
	chunks, _ := f.store.ListChunks(ctx, shippingID)
	if len(chunks) != 1 || chunks[0].Text != after.Body || chunks[0].Heading != after.Title || chunks[0].ID == oldChunks[0].ID {
		t.Errorf("chunks = %+v, want one new FAQ chunk replacing %s", chunks, oldChunks[0].ID)
	}
	if es := f.audit(t, kb.ActionUpdate); len(es) != 1 || es[0].Subject != shippingID || es[0].Actor != kb.Actor || es[0].Detail["version"] != "2" {
		t.Errorf("update audit = %+v, want one entry for v2", es)
	}
}

func TestPublishDelete(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{})
	tests := []struct {
		name, target string
		values       url.Values
		status       int
		location     string
		audit        string
	}{
		{"Publish", "/kb/docs/" + returnsID + "/publish", nil, 303, "/kb/docs/" + returnsID + "?done=published", kb.ActionPublish},
		{"Unpublish", "/kb/docs/" + returnsID + "/unpublish", nil, 303, "/kb/docs/" + returnsID + "?done=unpublished", kb.ActionUnpublish},
		{"UnpublishAgainNoAudit", "/kb/docs/" + returnsID + "/unpublish", nil, 303, "/kb/docs/" + returnsID + "?done=unpublished", ""},
		{"ErrPublishMissing", "/kb/docs/default/nope/publish", nil, 404, "", ""},
		{"ErrDeleteUnconfirmed", "/kb/docs/" + returnsID + "/delete", nil, 400, "", ""},
		{"Delete", "/kb/docs/" + returnsID + "/delete", url.Values{"confirm": {"yes"}}, 303, "/kb/?done=deleted", kb.ActionDelete},
		{"ErrDeleteAgain", "/kb/docs/" + returnsID + "/delete", url.Values{"confirm": {"yes"}}, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(f.audit(t, ""))
			res, body := f.do(t, form("POST", tt.target, tt.values))
			if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
				t.Fatalf("got %d → %q, want %d → %q; body:\n%s", res.StatusCode, res.Header.Get("Location"), tt.status, tt.location, body)
			}
			es := f.audit(t, "")
			switch {
			case tt.audit == "" && len(es) != n:
				t.Errorf("audit grew to %d entries, want %d", len(es), n)
			case tt.audit != "" && (len(es) != n+1 || es[0].Action != tt.audit || es[0].Subject != returnsID || es[0].Actor != "editor"):
				t.Errorf("audit = %+v, want a new %s entry", es, tt.audit)
			}
		})
	}
	if _, err := f.store.FindDocumentByID(context.Background(), returnsID); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("find deleted document: %v, want not_found", err)
	}
}

func TestNewArticle(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{})
	tests := []struct {
		name     string
		values   url.Values
		status   int
		location string
		want     string
	}{
		{"OK", url.Values{"title": {"Gift cards"}, "body": {"Gift cards never expire."}, "tags": {"billing"}}, 303, "/kb/docs/default/gift-cards?done=created", ""},
		{"OKFAQWithID", url.Values{"collection": {"help"}, "id": {"faq/gift-refund"}, "title": {"Can I refund a gift card?"}, "body": {"No, gift cards are not refundable."}, "faq": {"on"}}, 303, "/kb/docs/help/faq/gift-refund?done=created", ""},
		{"ErrDuplicate", url.Values{"title": {"Gift cards"}, "body": {"Again."}}, 400, "", "exists already"},
		{"ErrBadID", url.Values{"id": {"../x"}, "title": {"T"}, "body": {"B"}}, 400, "", "The id may hold"},
		{"ErrReservedSuffix", url.Values{"id": {"a/edit"}, "title": {"T"}, "body": {"B"}}, 400, "", "may not end in edit"},
		{"ErrNoBody", url.Values{"title": {"T"}}, 400, "", "A body is required."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := f.do(t, form("POST", "/kb/new", tt.values))
			if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
				t.Fatalf("got %d → %q, want %d → %q; body:\n%s", res.StatusCode, res.Header.Get("Location"), tt.status, tt.location, body)
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("body lacks %q", tt.want)
			}
		})
	}
	if d := f.doc(t, "default/gift-cards"); d.Status != tandem.DocumentDraft || d.Body != "Gift cards never expire." {
		t.Errorf("created = %+v", d)
	}
	chunks, _ := f.store.ListChunks(context.Background(), "help/faq/gift-refund")
	if len(chunks) != 1 || chunks[0].Heading != "Can I refund a gift card?" {
		t.Errorf("FAQ chunks = %+v, want one headed by the question", chunks)
	}
	if es := f.audit(t, kb.ActionCreate); len(es) != 2 {
		t.Errorf("create audit = %+v, want 2", es)
	}
}

func TestUnanswered(t *testing.T) {
	t.Parallel()
	f := setup(t, kb.Config{})
	ctx := context.Background()
	qs := []struct{ q, bot string }{
		{"Do you ship to Canada?", "shop"}, {"do you ship to canada", "shop"}, {"Can you ship to Canada?", "shop"},
		{"Shipping to Canada possible?", "shop"}, {"What is your phone number?", "shop"}, {"phone number please", "other"},
	}
	for i, q := range qs {
		e := &tandem.AuditEntry{Actor: "system", Action: kb.ActionUnanswered, Subject: "conv-" + string(rune('a'+i)),
			Detail: map[string]string{"question": q.q, "bot": q.bot}}
		if err := f.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, target string
		want, not    []string
	}{
		{"OK", "/kb/unanswered", []string{"<strong>6</strong> questions", "ship to Canada", "phone number", `class="count" title="questions">4<`, "Write an article"}, nil},
		{"ByBot", "/kb/unanswered?bot=other", []string{"<strong>1</strong> questions", "phone number please"}, []string{"Canada"}},
		{"NoneForBot", "/kb/unanswered?bot=nobody", []string{"No unanswered questions recorded for this bot"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := f.do(t, httptest.NewRequest("GET", tt.target, nil))
			if res.StatusCode != 200 {
				t.Fatalf("status = %d; body:\n%s", res.StatusCode, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("body has %q", n)
				}
			}
		})
	}
}

func upload(t *testing.T, name string, data []byte, fields map[string]string) *http.Request {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if name != "" {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(data)
	}
	_ = mw.Close()
	r := httptest.NewRequest("POST", "/kb/ingest", &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

// events reads a job's event stream to its end and returns the event names and last data.
func events(t *testing.T, f *fixture, job string) ([]string, string) {
	t.Helper()
	ts := httptest.NewServer(f.h)
	defer ts.Close()
	res, err := http.Get(ts.URL + job + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, ct)
	}
	var names []string
	var data string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, s)
		}
		if s, ok := strings.CutPrefix(line, "data: "); ok {
			data = s
		}
	}
	return names, data
}

func TestIngestUpload(t *testing.T) {
	t.Parallel()
	csv := "question,answer,url,tags\nDo you ship to Canada?,Yes we ship to Canada in 7 days.,,shipping\nCan I pay with bitcoin?,No we do not accept bitcoin.,,billing\n"
	md := "---\ntitle: Warranty\n---\n# Warranty\nEvery product has a two year warranty.\n"
	tests := []struct {
		name    string
		file    string
		data    []byte
		fields  map[string]string
		status  int
		want    string
		docs    []string
		docStat tandem.DocumentStatus
	}{
		{"OKCSV", "faq.csv", []byte(csv), nil, 303, `"added":2`, []string{"default/faq#do-you-ship-to-canada", "default/faq#can-i-pay-with-bitcoin"}, tandem.DocumentDraft},
		{"OKMarkdownPublished", "warranty.md", []byte(md), map[string]string{"collection": "help", "publish": "on"}, 303, `"added":1`, []string{"help/warranty"}, tandem.DocumentPublished},
		{"ErrTooLarge", "big.txt", bytes.Repeat([]byte("a"), 2<<20), nil, 413, "", nil, ""},
		{"ErrFileType", "virus.exe", []byte("MZ"), nil, 400, "not a supported file type", nil, ""},
		{"ErrBadPDF", "broken.pdf", []byte("not a pdf"), nil, 400, "PDF", nil, ""},
		{"ErrBadJSONL", "faq.jsonl", []byte("{not json\n"), nil, 400, "", nil, ""},
		{"ErrNoFile", "", nil, map[string]string{"collection": "default"}, 400, "choose a file", nil, ""},
		{"ErrBadCollection", "a.md", []byte(md), map[string]string{"collection": "../x"}, 400, "collection name", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, kb.Config{MaxUploadBytes: 1 << 20})
			res, body := f.do(t, upload(t, tt.file, tt.data, tt.fields))
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body:\n%s", res.StatusCode, tt.status, body)
			}
			if res.StatusCode != 303 {
				if !strings.Contains(body, tt.want) {
					t.Errorf("body lacks %q:\n%s", tt.want, body)
				}
				return
			}
			job := res.Header.Get("Location")
			if !strings.HasPrefix(job, "/kb/ingest/") {
				t.Fatalf("location = %q", job)
			}
			names, data := events(t, f, job)
			if len(names) == 0 || names[len(names)-1] != "done" || !strings.Contains(data, tt.want) || !strings.Contains(data, `"finished":true`) {
				t.Fatalf("events %v, last data %s; want done with %s", names, data, tt.want)
			}
			_, page := f.do(t, httptest.NewRequest("GET", job, nil))
			if !strings.Contains(page, "Done:") || !strings.Contains(page, "<progress") {
				t.Errorf("job page:\n%s", page)
			}
			for _, id := range tt.docs {
				if d := f.doc(t, id); d.Status != tt.docStat {
					t.Errorf("%s status = %s, want %s", id, d.Status, tt.docStat)
				}
				target := "/kb/docs/" + strings.ReplaceAll(id, "#", "%23")
				if res, body := f.do(t, httptest.NewRequest("GET", target, nil)); res.StatusCode != 200 {
					t.Errorf("GET %s = %d:\n%s", target, res.StatusCode, body)
				}
			}
			if es := f.audit(t, kb.ActionIngest); len(es) != 1 || es[0].Detail["file"] != tt.file {
				t.Errorf("ingest audit = %+v", es)
			}
		})
	}
}

// BenchmarkTry measures the "try a question" page: hybrid search, answer and rendering.
func BenchmarkTry(b *testing.B) {
	f := setup(b, kb.Config{})
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, httptest.NewRequest("GET", "/kb/try?q=how+long+does+shipping+take", nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
