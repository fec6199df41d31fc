package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIntegratorsOnly checks who may use the REST channel and read transcripts: this
// machine while no API key is configured, then only requests that carry a key.
func TestIntegratorsOnly(t *testing.T) {
	t.Parallel()
	const message = `{"user":"u1","text":"hello"}`
	tests := []struct {
		name   string
		keys   []string
		remote string
		auth   string
		want   int
	}{
		{"OKLoopbackWithoutKeys", nil, "127.0.0.1:5000", "", http.StatusOK},
		{"OKLoopbackIPv6", nil, "[::1]:5000", "", http.StatusOK},
		{"ErrNetworkWithoutKeys", nil, "203.0.113.9:5000", "", http.StatusForbidden},
		{"OKKey", []string{testAPIKey}, "203.0.113.9:5000", "Bearer " + testAPIKey, http.StatusOK},
		{"ErrNoKey", []string{testAPIKey}, "203.0.113.9:5000", "", http.StatusUnauthorized},
		{"ErrNoKeyFromLoopback", []string{testAPIKey}, "127.0.0.1:5000", "", http.StatusUnauthorized},
		{"ErrWrongKey", []string{testAPIKey}, "203.0.113.9:5000", "Bearer not-the-key-0123456789", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *options) { o.cfg.APIKeys = tt.keys })
			send := func(method, target, body string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, target, strings.NewReader(body))
				req.RemoteAddr = tt.remote
				req.Header.Set("Content-Type", "application/json")
				if tt.auth != "" {
					req.Header.Set("Authorization", tt.auth)
				}
				rec := httptest.NewRecorder()
				f.srv.ServeHTTP(rec, req)
				return rec
			}
			rec := send(http.MethodPost, "/api/v1/bots/demo/messages", message)
			if rec.Code != tt.want {
				t.Fatalf("POST messages: status %d (%s), want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want != http.StatusOK {
				if !strings.Contains(rec.Body.String(), `"error"`) {
					t.Errorf("refusal is not a JSON error: %s", rec.Body)
				}
				if n := f.engine.calls(); n != 0 {
					t.Errorf("a refused request reached the engine %d times", n)
				}
			}
			if rec := send(http.MethodGet, "/api/v1/conversations/conv-1", ""); (rec.Code == http.StatusOK || rec.Code == http.StatusNotFound) != (tt.want == http.StatusOK) {
				t.Errorf("GET transcript: status %d, want it served exactly when messages are (%d)", rec.Code, tt.want)
			}
		})
	}
}
