package demo

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"
)

const testSecret = "s3cret"

func TestActionsHandler(t *testing.T) {
	t.Parallel()
	type errBody struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	tests := []struct {
		name     string
		secret   string
		method   string
		path     string
		body     string
		sig      string // "" = sign correctly with the secret; "-" = no header
		status   int
		wantKey  string // a JSON field that must be present and non-empty
		wantCode string // error code for non-200
		contains string
	}{
		{name: "OK/shipped", secret: testSecret, method: "GET", path: "/demo/api/orders/A100001", status: 200, wantKey: "tracking", contains: `"status":"shipped"`},
		{name: "OK/processing", secret: testSecret, method: "GET", path: "/demo/api/orders/A100002", status: 200, wantKey: "eta", contains: `"status":"processing"`},
		{name: "OK/delivered", secret: testSecret, method: "GET", path: "/demo/api/orders/A100003", status: 200, wantKey: "delivered_on", contains: `"status":"delivered"`},
		{name: "OK/lowercaseDash", secret: testSecret, method: "GET", path: "/demo/api/orders/a-100001", status: 200, contains: `"id":"A100001"`},
		{name: "OK/inSentence", secret: testSecret, method: "GET", path: "/demo/api/orders/" + url.PathEscape("sorry, it's a-100002"), status: 200, contains: `"id":"A100002"`},
		{name: "OK/inQuery", secret: testSecret, method: "GET", path: "/demo/api/orders/" + url.QueryEscape("it's A100003 / thanks"), status: 200, contains: `"id":"A100003"`},
		{name: "ErrTwoOrders", secret: testSecret, method: "GET", path: "/demo/api/orders/A100001%20A100002", status: 400, wantCode: "invalid"},
		{name: "ErrSevenDigits", secret: testSecret, method: "GET", path: "/demo/api/orders/A1000012", status: 400, wantCode: "invalid"},
		{name: "OK/generated", secret: testSecret, method: "GET", path: "/demo/api/orders/A123456", status: 200, wantKey: "message", contains: `"id":"A123456"`},
		{name: "OK/noSecret", secret: "", sig: "-", method: "GET", path: "/demo/api/orders/A100001", status: 200, contains: "UPS"},
		{name: "OK/prefixedSignature", secret: testSecret, sig: "sha256=", method: "GET", path: "/demo/api/orders/A100001", status: 200},
		{name: "OK/return", secret: testSecret, method: "POST", path: "/demo/api/returns", body: `{"order":"A100003","reason":"damaged"}`, status: 200, wantKey: "label_url", contains: "https://acme.example/returns/R"},
		{name: "ErrBadSignature", secret: testSecret, sig: "deadbeef", method: "GET", path: "/demo/api/orders/A100001", status: 401, wantCode: "unauthorized"},
		{name: "ErrMissingSignature", secret: testSecret, sig: "-", method: "POST", path: "/demo/api/returns", body: `{"order":"A100003","reason":"damaged"}`, status: 401, wantCode: "unauthorized"},
		{name: "ErrSignatureOfOtherBody", secret: testSecret, sig: Sign(testSecret, []byte(`{"order":"A100001","reason":"damaged"}`)), method: "POST", path: "/demo/api/returns", body: `{"order":"A100003","reason":"damaged"}`, status: 401, wantCode: "unauthorized"},
		{name: "ErrUnknownOrder", secret: testSecret, method: "GET", path: "/demo/api/orders/A999999", status: 404, wantCode: "not_found"},
		{name: "ErrUnknownOrderReturn", secret: testSecret, method: "POST", path: "/demo/api/returns", body: `{"order":"A000001","reason":"damaged"}`, status: 404, wantCode: "not_found"},
		{name: "ErrMalformedOrder", secret: testSecret, method: "GET", path: "/demo/api/orders/B12", status: 400, wantCode: "invalid"},
		{name: "ErrBadJSON", secret: testSecret, method: "POST", path: "/demo/api/returns", body: `{"order":`, status: 400, wantCode: "invalid"},
		{name: "ErrMissingReason", secret: testSecret, method: "POST", path: "/demo/api/returns", body: `{"order":"A100001"}`, status: 400, wantCode: "invalid"},
		{name: "ErrTooLarge", secret: "", sig: "-", method: "POST", path: "/demo/api/returns", body: `{"order":"` + strings.Repeat("x", maxBody) + `"}`, status: 413, wantCode: "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(ActionsHandler(tt.secret))
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			switch tt.sig {
			case "-":
			case "", "sha256=":
				req.Header.Set(SignatureHeader, tt.sig+Sign(tt.secret, []byte(tt.body)))
			default:
				req.Header.Set(SignatureHeader, tt.sig)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, raw)
			}
			if got, want := resp.Header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if tt.contains != "" && !strings.Contains(string(raw), tt.contains) {
				t.Errorf("body %s does not contain %q", raw, tt.contains)
			}
			if tt.wantKey != "" {
				var m map[string]any
				if err := json.Unmarshal(raw, &m); err != nil {
					t.Fatalf("decode %s: %v", raw, err)
				}
				if v, _ := m[tt.wantKey].(string); v == "" {
					t.Errorf("field %q empty in %s", tt.wantKey, raw)
				}
			}
			if tt.wantCode != "" {
				var e errBody
				if err := json.Unmarshal(raw, &e); err != nil {
					t.Fatalf("decode %s: %v", raw, err)
				}
				if got, want := e.Error.Code, tt.wantCode; got != want {
					t.Errorf("error code = %q, want %q", got, want)
				}
				if e.Error.Message == "" {
					t.Errorf("error message empty in %s", raw)
				}
			}
		})
	}
}

func TestActionsHandlerDeterministic(t *testing.T) {
	t.Parallel()
	h := ActionsHandler("")
	get := func(method, path, body string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	tests := []struct{ name, method, path, body string }{
		{"OK/order", "GET", "/demo/api/orders/A654321", ""},
		{"OK/return", "POST", "/demo/api/returns", `{"order":"A100001","reason":"wrong_size"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := get(tt.method, tt.path, tt.body), get(tt.method, tt.path, tt.body); got != want {
				t.Errorf("second call = %s, want %s", got, want)
			}
		})
	}
}

func TestFS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		glob string
		min  int
	}{
		{"OK/bot", Root + "/bot.yaml", 1},
		{"OK/intents", Root + "/intents.yaml", 1},
		{"OK/responses", Root + "/responses.yaml", 1},
		{"OK/entities", Root + "/entities.yaml", 1},
		{"OK/glossary", Root + "/glossary.yaml", 1},
		{"OK/flows", Root + "/flows/*.yaml", 3},
		{"OK/knowledge", Root + "/knowledge/*.md", 22},
		{"OK/tests", Root + "/tests/*.yaml", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fs.Glob(FS, tt.glob)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < tt.min {
				t.Errorf("%s matches %d files, want at least %d", tt.glob, len(got), tt.min)
			}
		})
	}
}

func FuzzOrderPath(f *testing.F) {
	for _, s := range []string{"A100001", "a-123456", "A999999", "B12", "%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		req, err := http.NewRequest("GET", "http://x/demo/api/orders/x", nil)
		if err != nil {
			t.Skip()
		}
		req.SetPathValue("id", id)
		rec := httptest.NewRecorder()
		getOrder(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound:
		default:
			t.Errorf("id %q: status %d", id, rec.Code)
		}
	})
}

// TestTemplates parses every templated string of the bot folder with text/template, so a
// typo in a response or flow fails here even before the engine loads the bot.
func TestTemplates(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(FS, Root+"/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	flows, err := fs.Glob(FS, Root+"/flows/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(files, flows...) {
		t.Run("OK/"+name, func(t *testing.T) {
			t.Parallel()
			raw, err := fs.ReadFile(FS, name)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var walk func(n *yaml.Node)
			walk = func(n *yaml.Node) {
				if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "{{") {
					if _, err := template.New("").Option("missingkey=zero").Parse(n.Value); err != nil {
						t.Errorf("%s:%d: %v", name, n.Line, err)
					}
				}
				for _, c := range n.Content {
					walk(c)
				}
			}
			walk(&doc)
		})
	}
}

func FuzzReturnBody(f *testing.F) {
	for _, s := range []string{`{"order":"A100001","reason":"damaged"}`, `{"order":`, `{}`, `[]`, `{"order":"A999999","reason":"x"}`} {
		f.Add([]byte(s))
	}
	h := ActionsHandler("")
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/demo/api/returns", strings.NewReader(string(body))))
		switch rec.Code {
		case http.StatusOK:
			var r Return
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.ID == "" || r.LabelURL == "" {
				t.Errorf("body %q: 200 with %s", body, rec.Body)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("body %q: status %d", body, rec.Code)
		}
	})
}
