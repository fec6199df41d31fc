package web_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

func TestErrorStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want int
	}{
		{tandem.ENOTFOUND, 404},
		{tandem.EINVALID, 400},
		{tandem.EDUPLICATE, 409},
		{tandem.ECONFLICT, 409},
		{tandem.ETOOLARGE, 413},
		{tandem.EUNAUTHORIZED, 401},
		{tandem.EFORBIDDEN, 403},
		{tandem.EINTERNAL, 500},
		{"something_new", 500},
		{"", 500},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			if got := web.ErrorStatus(tt.code); got != tt.want {
				t.Errorf("ErrorStatus(%q) = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
		logged  bool
	}{
		{"NotFound", fmt.Errorf("find: %w", tandem.Errorf(tandem.ENOTFOUND, "no conversation %q", "c1")), 404, "not_found", `no conversation "c1"`, false},
		{"Forbidden", tandem.Errorf(tandem.EFORBIDDEN, "agents only"), 403, "forbidden", "agents only", false},
		{"Unauthorized", tandem.Errorf(tandem.EUNAUTHORIZED, "sign in"), 401, "unauthorized", "sign in", false},
		{"TooLarge", tandem.Errorf(tandem.ETOOLARGE, "too big"), 413, "too_large", "too big", false},
		{"Internal", fmt.Errorf("query: %w", errors.New("pq: password authentication failed")), 500, "internal", "internal error", true},
		{"InternalCode", tandem.Errorf(tandem.EINTERNAL, "store down"), 500, "internal", "store down", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			rec := httptest.NewRecorder()
			web.WriteError(rec, httptest.NewRequest("GET", "/x", nil), logger, tt.err)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			e := decodeErrorBody(t, rec.Body.String())
			if e.Error.Code != tt.code || e.Error.Message != tt.message {
				t.Errorf("error = %+v, want code %q message %q", e.Error, tt.code, tt.message)
			}
			if got := logs.String() != ""; got != tt.logged {
				t.Errorf("logged = %v, want %v (log %q)", got, tt.logged, logs.String())
			}
			if tt.logged && !strings.Contains(logs.String(), tt.err.Error()) {
				t.Errorf("log %q lacks the error %q", logs.String(), tt.err)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     string
		pinger   bool
		fail     bool
		status   int
		bodyPart string
	}{
		{"OKHealthz", "/healthz", true, true, 200, `"ok"`}, // liveness ignores the store
		{"OKReadyz", "/readyz", true, false, 200, `"ready"`},
		{"OKReadyzNoPinger", "/readyz", false, false, 200, `"ready"`},
		{"ErrReadyzStoreDown", "/readyz", true, true, 503, `"unavailable"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *options) { o.pinger = tt.pinger })
			f.pinger.set(tt.fail)
			rec := f.do(t, http.MethodGet, tt.path, "", "")
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if !strings.Contains(rec.Body.String(), tt.bodyPart) {
				t.Errorf("body %q lacks %s", rec.Body, tt.bodyPart)
			}
			if strings.Contains(rec.Body.String(), "refused") {
				t.Errorf("body %q leaks the ping error", rec.Body)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u1","text":"hi"}`)
	f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u1","text":"human"}`)
	f.do(t, http.MethodPost, "/api/v1/bots/nobot/messages", jsonType, `{"user":"u1","text":"hi"}`)
	f.do(t, http.MethodGet, "/no/such/page/123", "", "")
	rec := f.do(t, http.MethodGet, "/metrics", "", "")
	if rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`tandem_http_requests_total{code="200",method="POST",route="POST /api/v1/bots/{bot}/messages"} 2`,
		`tandem_http_requests_total{code="404",method="POST",route="POST /api/v1/bots/{bot}/messages"} 1`,
		`tandem_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`tandem_http_request_duration_seconds_count{method="POST",route="POST /api/v1/bots/{bot}/messages"} 3`,
		`tandem_turns_total{bot="demo",decision="knowledge"} 1`,
		`tandem_turns_total{bot="demo",decision="handoff"} 1`,
		`tandem_handoffs_total{bot="demo"} 1`,
		`tandem_turn_errors_total{code="not_found"} 1`,
		`tandem_turn_duration_seconds_count{bot="demo"} 2`,
		`tandem_http_requests_in_flight 1`, // the /metrics request itself
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "no/such/page") || strings.Contains(body, "nobot") {
		t.Errorf("/metrics has unbounded label values")
	}

	// Everything the server registers is prefixed tandem_.
	families, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range families {
		names = append(names, mf.GetName())
		if !strings.HasPrefix(mf.GetName(), "tandem_") {
			t.Errorf("metric %s is not prefixed tandem_", mf.GetName())
		}
	}
	if len(names) < 6 {
		t.Errorf("metrics = %v, want the server's tandem_* families", names)
	}
}

func TestMetricsSharedRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	cfg := web.Config{Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	deps := web.Deps{Engine: newScriptedEngine(), Conversations: newScriptedEngine()}
	a := web.NewServer(cfg, deps)
	b := web.NewServer(cfg, deps) // must not panic on duplicate registration
	for _, s := range []*web.Server{a, b} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `tandem_http_requests_total{code="200",method="GET",route="GET /healthz"} 2`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	t.Run("OKRequestIDGenerated", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		a := f.do(t, http.MethodGet, "/healthz", "", "")
		b := f.do(t, http.MethodGet, "/healthz", "", "")
		idA, idB := a.Header().Get(web.RequestIDHeader), b.Header().Get(web.RequestIDHeader)
		if idA == "" || idA == idB {
			t.Errorf("request ids = %q, %q; want distinct non-empty ids", idA, idB)
		}
	})
	t.Run("OKRequestIDKept", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, tc := range []struct {
			in   string
			kept bool
		}{{"abc-123_x.y", true}, {"has space", false}, {strings.Repeat("a", 65), false}, {"<script>", false}} {
			req := httptest.NewRequest("GET", "/healthz", nil)
			req.Header.Set(web.RequestIDHeader, tc.in)
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			got := rec.Header().Get(web.RequestIDHeader)
			if (got == tc.in) != tc.kept || got == "" {
				t.Errorf("request id %q became %q; kept = %v, want %v", tc.in, got, got == tc.in, tc.kept)
			}
		}
	})
	t.Run("OKSecurityHeaders", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, path := range []string{"/", "/healthz", "/api/v1/conversations/x", "/nope"} {
			rec := f.do(t, http.MethodGet, path, "", "")
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "strict-origin-when-cross-origin",
			} {
				if got := rec.Header().Get(h); got != want {
					t.Errorf("%s: %s = %q, want %q", path, h, got, want)
				}
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP = %q", path, csp)
			}
		}
	})
	t.Run("OKAccessLogWithoutBodies", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u1","text":"my card is 4111 1111 1111 1111"}`)
		logs := f.logs.String()
		for _, want := range []string{"http request", "route=\"POST /api/v1/bots/{bot}/messages\"", "status=200", "request_id="} {
			if !strings.Contains(logs, want) {
				t.Errorf("access log lacks %s: %s", want, logs)
			}
		}
		if strings.Contains(logs, "4111") {
			t.Errorf("access log contains the message body: %s", logs)
		}
	})
	t.Run("OKPanicRecovered", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u1","text":"panic"}`)
		if rec.Code != 500 {
			t.Errorf("status = %d, want 500", rec.Code)
		}
		if !strings.Contains(f.logs.String(), "scripted panic") {
			t.Errorf("panic not logged: %s", f.logs)
		}
		if rec := f.do(t, http.MethodGet, "/healthz", "", ""); rec.Code != 200 {
			t.Errorf("after a panic, /healthz = %d", rec.Code)
		}
		m := f.do(t, http.MethodGet, "/metrics", "", "")
		if !strings.Contains(m.Body.String(), "tandem_http_panics_total 1") ||
			!strings.Contains(m.Body.String(), `tandem_http_requests_total{code="500",method="POST"`) {
			t.Errorf("panic not counted: %s", m.Body)
		}
	})
}

func TestMount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.Mount("/demo/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.RequestID(r.Context()) == "" {
			t.Error("mounted handler has no request id")
		}
		io.WriteString(w, "orders")
	}))
	rec := f.do(t, http.MethodGet, "/demo/api/orders/A100001", "", "")
	if rec.Code != 200 || rec.Body.String() != "orders" {
		t.Errorf("mounted route = %d %q", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("mounted route lacks security headers")
	}
	m := f.do(t, http.MethodGet, "/metrics", "", "")
	if want := `tandem_http_requests_total{code="200",method="GET",route="/demo/api/"} 1`; !strings.Contains(m.Body.String(), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

func TestChatPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string
		status      int
		contentType string
		contains    []string
	}{
		{"OK", "/", 200, "text/html; charset=utf-8", []string{`data-bot="demo"`, `aria-live="polite"`, `<label for="message"`, `src="/static/chat.js"`, `maxlength="4096"`}},
		{"OKOtherBot", "/?bot=acme-2", 200, "text/html; charset=utf-8", []string{`data-bot="acme-2"`}},
		{"ErrBadBot", "/?bot=%3Cscript%3E", 400, "text/plain; charset=utf-8", nil},
		{"OKScript", "/static/chat.js", 200, "text/javascript; charset=utf-8", []string{"/chat/ws", "WebSocket"}},
		{"OKStyle", "/static/chat.css", 200, "text/css; charset=utf-8", []string{".msg-customer"}},
		{"ErrNoAsset", "/static/nope.js", 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			rec := f.do(t, http.MethodGet, tt.path, "", "")
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.contentType != "" && rec.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tt.contentType)
			}
			for _, want := range tt.contains {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body lacks %s", want)
				}
			}
			if strings.Contains(rec.Body.String(), "http://") && tt.name != "OKScript" {
				t.Errorf("page refers to an outside resource")
			}
		})
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	d := web.Config{}.WithDefaults()
	if d.MaxMessageBytes != 4096 || d.MaxBodyBytes != 8*4096+4096 || d.DefaultBot != "demo" ||
		d.ReadyTimeout != 2*time.Second || d.Logger == nil || d.Registerer == nil || d.Gatherer == nil || d.Now == nil {
		t.Errorf("defaults = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*web.Config)
	}{
		{"ErrNegativeMessageBytes", func(c *web.Config) { c.MaxMessageBytes = -1 }},
		{"ErrBodySmallerThanMessage", func(c *web.Config) { c.MaxBodyBytes = 100 }},
		{"ErrDefaultBot", func(c *web.Config) { c.DefaultBot = "../x" }},
		{"ErrReadyTimeout", func(c *web.Config) { c.ReadyTimeout = -time.Second }},
		{"ErrGathererMissing", func(c *web.Config) { c.Gatherer = nil }},
		{"ErrShortAPIKey", func(c *web.Config) { c.APIKeys = []string{"0123456789abcdef", "short"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := web.Config{}.WithDefaults()
			tt.modify(&c)
			if err := c.Validate(); tandem.ErrorCode(err) != tandem.EINVALID {
				t.Errorf("Validate() = %v, want an invalid error", err)
			}
		})
	}
	t.Run("ErrDeps", func(t *testing.T) {
		t.Parallel()
		if err := (web.Deps{}).Validate(); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("Deps{}.Validate() = %v, want an invalid error", err)
		}
		defer func() {
			if recover() == nil {
				t.Error("NewServer with no engine did not panic")
			}
		}()
		web.NewServer(web.Config{}, web.Deps{})
	})
}

func TestHTTPServer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hs := f.srv.HTTPServer("127.0.0.1:0")
	if hs.Handler != f.srv || hs.ReadHeaderTimeout == 0 || hs.IdleTimeout == 0 || hs.ErrorLog == nil {
		t.Fatalf("http.Server = %+v, want the server as handler with timeouts and a logger", hs)
	}
	ln, err := net.Listen("tcp", hs.Addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get(web.RequestIDHeader) == "" {
		t.Errorf("GET /healthz = %d with request id %q", res.StatusCode, res.Header.Get(web.RequestIDHeader))
	}
}

func TestAPIRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		path   string
		status int
		allow  string
	}{
		{"ErrMethodMessages", http.MethodGet, "/api/v1/bots/demo/messages", 405, "POST"},
		{"ErrMethodConversation", http.MethodDelete, "/api/v1/conversations/c1", 405, "GET, HEAD"},
		{"ErrUnknownEndpoint", http.MethodGet, "/api/v1/nothing", 404, ""},
		{"ErrUnknownVersion", http.MethodPost, "/api/v2/bots/demo/messages", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			rec := f.do(t, tt.method, tt.path, jsonType, `{}`)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			decodeErrorBody(t, rec.Body.String())
		})
	}
}

func TestObserveTurn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.ObserveTurn("demo", &tandem.Turn{Decision: tandem.Decision{Kind: tandem.DecisionFlow}}, 3*time.Millisecond)
	f.srv.ObserveTurn("demo", &tandem.Turn{Duplicate: true}, time.Millisecond)
	body := f.do(t, http.MethodGet, "/metrics", "", "").Body.String()
	for _, want := range []string{`tandem_turns_total{bot="demo",decision="flow"} 1`, `tandem_turns_total{bot="demo",decision="duplicate"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMetricsCSAT(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.ObserveTurn("demo", &tandem.Turn{Decision: tandem.Decision{Kind: tandem.DecisionSurvey}, CSATScore: 4}, time.Millisecond)
	f.srv.ObserveTurn("demo", &tandem.Turn{Decision: tandem.Decision{Kind: tandem.DecisionKnowledge}}, time.Millisecond)
	body := f.do(t, http.MethodGet, "/metrics", "", "").Body.String()
	if !strings.Contains(body, `tandem_csat_responses_total{bot="demo",score="4"} 1`) {
		t.Errorf("/metrics lacks the rating:\n%s", body)
	}
	if n := strings.Count(body, "tandem_csat_responses_total{"); n != 1 {
		t.Errorf("%d csat series, want 1 (a turn without a rating counts none)", n)
	}
}
