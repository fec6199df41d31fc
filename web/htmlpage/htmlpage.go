// Package htmlpage renders the server-rendered staff sites (the knowledge editor, web/kb,
// and the agents' inbox, web/inbox): each page template is parsed with its site's layout,
// written whole with its status, and errors become the site's error page.
package htmlpage

import (
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

// Pages is a site's page templates by name.
type Pages struct {
	site   string // names the site in logs
	logger *slog.Logger
	byName map[string]*template.Template
}

// Parse parses every templates/*.html of fsys except templates/layout.html, each together
// with that layout, and names it by its base name ("templates/queue.html" is "queue"). A
// template that does not parse panics: templates are embedded, so that is a build error.
func Parse(site string, fsys fs.FS, funcs template.FuncMap, logger *slog.Logger) *Pages {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &Pages{site: site, logger: logger, byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		p.byName[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html", n))
	}
	return p
}

// Render writes page name over data with status. The page is rendered before anything is
// written, so a template error is a clean 500 (logged) instead of half a page.
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := p.byName[name]
	if !ok {
		panic(p.site + ": no template " + name)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		p.logger.ErrorContext(r.Context(), "render page", "site", p.site, "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// ErrorData is what an error page shows.
type ErrorData struct {
	Status  int
	Code    string
	Message string
}

// Failure returns the error page data of err, with the status of its code
// (web.ErrorStatus); a body over its size limit is ETOOLARGE. Only internal errors are
// logged, and their details stay on the server.
func (p *Pages) Failure(r *http.Request, err error) ErrorData {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = tandem.Errorf(tandem.ETOOLARGE, "the request is larger than %d bytes", mbe.Limit)
	}
	code := tandem.ErrorCode(err)
	if code == tandem.EINTERNAL {
		p.logger.ErrorContext(r.Context(), "request failed", "site", p.site,
			"method", r.Method, "path", r.URL.Path, "request_id", web.RequestID(r.Context()), "error", err)
	}
	return ErrorData{Status: web.ErrorStatus(code), Code: code, Message: tandem.ErrorMessage(err)}
}

// Redirect sends the browser to path after a POST, with an optional notice code that the
// next page reads with Notice.
func Redirect(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		path += "?done=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// Notice returns the message of the request's notice code in notices; unknown codes show
// nothing, so the query parameter cannot inject text.
func Notice(r *http.Request, notices map[string]string) string {
	return notices[r.URL.Query().Get("done")]
}
