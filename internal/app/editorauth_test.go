package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEditorsOnly(t *testing.T) {
	t.Parallel()
	const key = "editor-key-0123456789"
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name   string
		keys   []string
		remote string
		setup  func(r *http.Request)
		want   int
	}{
		{"OKLoopbackWithoutKeys", nil, "127.0.0.1:5000", nil, http.StatusNoContent},
		{"OKIPv6LoopbackWithoutKeys", nil, "[::1]:5000", nil, http.StatusNoContent},
		{"ErrRemoteWithoutKeys", nil, "192.0.2.7:5000", nil, http.StatusForbidden},
		{"OKBasicPassword", []string{key}, "192.0.2.7:5000", func(r *http.Request) { r.SetBasicAuth("ann", key) }, http.StatusNoContent},
		{"OKBearer", []string{"other-key-abcdefghijk", key}, "192.0.2.7:5000", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }, http.StatusNoContent},
		{"ErrWrongKey", []string{key}, "127.0.0.1:5000", func(r *http.Request) { r.SetBasicAuth("ann", "nope") }, http.StatusUnauthorized},
		{"ErrNoCredentials", []string{key}, "127.0.0.1:5000", nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/kb/", nil)
			r.RemoteAddr = tt.remote
			if tt.setup != nil {
				tt.setup(r)
			}
			w := httptest.NewRecorder()
			editorsOnly(tt.keys, ok).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate: browsers would not ask for the key")
			}
		})
	}
}
