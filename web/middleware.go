package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/tandemhq/tandem"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-ID"

type requestIDKey struct{}

// RequestID returns the request id the server's middleware put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDRE is what an incoming request id must look like to be kept (so it is safe to log).
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID keeps a well-formed incoming X-Request-ID or makes a new one, echoes it in the
// response and puts it in the request context.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !requestIDRE.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// observe writes the access log line (never bodies or query strings) and the HTTP metrics,
// labelled by the route pattern the mux matched.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			// The mux sets r.Pattern on this same request; unmatched requests share one label
			// so random paths cannot blow up the metric's cardinality.
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
			s.log.InfoContext(r.Context(), "http request",
				"method", r.Method, "path", r.URL.Path, "route", route, "status", status,
				"bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds())/1000,
				"request_id", RequestID(r.Context()), "remote_addr", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recoverPanic turns a handler panic into a logged internal error and a 500 JSON response
// (when nothing was written yet). http.ErrAbortHandler is re-panicked: it is how a handler
// deliberately aborts a response.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.metrics.panics.Inc()
			s.log.ErrorContext(r.Context(), "http handler panic",
				"method", r.Method, "path", r.URL.Path, "request_id", RequestID(r.Context()),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec, ok := w.(*statusRecorder); ok && rec.status != 0 {
				return // too late for a clean error response
			}
			writeErrorJSON(w, http.StatusInternalServerError, tandem.EINTERNAL, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows only the server's own scripts, styles and API: the chat page
// loads no inline code and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries. A mounted handler that must be
// framed (an embeddable widget) overrides them on its own responses.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size of a response. It passes Flush and Hijack
// through (and Unwrap for http.ResponseController) so SSE and WebSocket handlers work behind it.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rw *statusRecorder) WriteHeader(code int) {
	if rw.status == 0 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *statusRecorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *statusRecorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// Flush implements http.Flusher.
func (rw *statusRecorder) Flush() {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker (WebSocket upgrades).
func (rw *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if rw.status == 0 {
		rw.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(rw.ResponseWriter).Hijack()
}
