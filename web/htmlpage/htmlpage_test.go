package htmlpage_test

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web/htmlpage"
)

var site = fstest.MapFS{
	"templates/layout.html": {Data: []byte(`<title>{{.Title}}</title>{{template "body" .}}`)},
	"templates/hello.html":  {Data: []byte(`{{define "body"}}<p>{{shout .Data}}</p>{{end}}`)},
	"templates/broken.html": {Data: []byte(`{{define "body"}}{{.Data.Missing}}{{end}}`)},
}

func parse() *htmlpage.Pages {
	return htmlpage.Parse("test", site, template.FuncMap{"shout": strings.ToUpper}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		page   string
		data   any
		status int
		want   string
	}{
		{"OK", "hello", "<b>hi</b>", http.StatusTeapot, "<title>T</title><p>&lt;B&gt;HI&lt;/B&gt;</p>"},
		{"ErrTemplate", "broken", "a string has no field", http.StatusInternalServerError, "internal error\n"},
	}
	p := parse()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			p.Render(w, httptest.NewRequest("GET", "/", nil), tt.status, tt.page, struct {
				Title string
				Data  any
			}{"T", tt.data})
			if w.Code != tt.status || w.Body.String() != tt.want {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), tt.status, tt.want)
			}
		})
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want htmlpage.ErrorData
	}{
		{"NotFound", tandem.Errorf(tandem.ENOTFOUND, "no ticket"), htmlpage.ErrorData{Status: 404, Code: tandem.ENOTFOUND, Message: "no ticket"}},
		{"TooLarge", fmt.Errorf("read form: %w", &http.MaxBytesError{Limit: 10}), htmlpage.ErrorData{Status: 413, Code: tandem.ETOOLARGE, Message: "the request is larger than 10 bytes"}},
		{"InternalHidden", errors.New("dial tcp: secret host"), htmlpage.ErrorData{Status: 500, Code: tandem.EINTERNAL, Message: tandem.ErrorMessage(errors.New("x"))}},
	}
	p := parse()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.Failure(httptest.NewRequest("POST", "/", nil), tt.err); got != tt.want {
				t.Errorf("Failure = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRedirectNotice(t *testing.T) {
	t.Parallel()
	notices := map[string]string{"saved": "Saved."}
	w := httptest.NewRecorder()
	htmlpage.Redirect(w, httptest.NewRequest("POST", "/kb/", nil), "/kb/docs/a", "saved")
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || loc != "/kb/docs/a?done=saved" {
		t.Fatalf("redirect = %d %q", w.Code, loc)
	}
	for q, want := range map[string]string{loc: "Saved.", "/?done=%3Cscript%3E": "", "/": ""} {
		if got := htmlpage.Notice(httptest.NewRequest("GET", q, nil), notices); got != want {
			t.Errorf("Notice(%s) = %q, want %q", q, got, want)
		}
	}
}
