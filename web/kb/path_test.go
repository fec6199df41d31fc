package kb

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDocPath checks that every document id the editor can address survives docPath and
// the ServeMux wildcard unchanged. Ids with empty, "." or ".." segments are left out: the
// mux cleans such paths (a documented limitation).
func FuzzDocPath(f *testing.F) {
	for _, s := range []string{"default/faq/shipping", "default/faq#do-you-ship", "help/a b?c=d&e", "x/100%", "de/größe", "c/über/ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !utf8.ValidString(id) || strings.ContainsAny(id, "\x00") {
			return
		}
		segs := strings.Split(id, "/")
		if slices.ContainsFunc(segs, func(s string) bool { return s == "" || s == "." || s == ".." }) {
			return
		}
		if _, action := splitAction(id); action != "" {
			return
		}
		var got string
		mux := http.NewServeMux()
		mux.HandleFunc("GET /kb/docs/{path...}", func(w http.ResponseWriter, r *http.Request) { got = r.PathValue("path") })
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", docPath(id), nil))
		if rec.Code != http.StatusOK || got != id {
			t.Errorf("docPath(%q) = %q → %d %q", id, docPath(id), rec.Code, got)
		}
	})
}

func TestSplitAction(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, id, action string }{
		{"default/faq/shipping", "default/faq/shipping", ""},
		{"default/faq/shipping/edit", "default/faq/shipping", "edit"},
		{"default/x/publish", "default/x", "publish"},
		{"edit", "edit", ""},
		{"default/editor", "default/editor", ""},
	}
	for _, tt := range tests {
		if id, action := splitAction(tt.in); id != tt.id || action != tt.action {
			t.Errorf("splitAction(%q) = %q, %q; want %q, %q", tt.in, id, action, tt.id, tt.action)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"OKZero", Config{}, true},
		{"OK", Config{DefaultCollection: "help", PageSize: 50, GroupSimilarity: 0.4}, true},
		{"ErrCollection", Config{DefaultCollection: "a/b"}, false},
		{"ErrNegative", Config{MaxUploadBytes: -1}, false},
		{"ErrPageSize", Config{PageSize: 501}, false},
		{"ErrSimilarity", Config{GroupSimilarity: 2}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
