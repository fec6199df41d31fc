package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/web"
)

// BenchmarkPostMessage measures the server's own cost of one REST turn (decode, validate,
// middleware, metrics, access log, encode) around an engine that answers at once.
func BenchmarkPostMessage(b *testing.B) {
	srv := web.NewServer(web.Config{
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: prometheus.NewRegistry(),
	}, web.Deps{Engine: echoEngine{}, Conversations: newScriptedEngine()})
	body := `{"user":"visitor-1","text":"How long does shipping take to Canada?","message_id":"m-1"}`
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/bots/demo/messages", strings.NewReader(body))
			req.RemoteAddr = "127.0.0.1:50000"
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
