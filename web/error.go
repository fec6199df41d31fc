package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tandemhq/tandem"
)

// ErrorStatus returns the HTTP status for a tandem error code; unknown codes are 500.
func ErrorStatus(code string) int {
	switch code {
	case tandem.ENOTFOUND:
		return http.StatusNotFound
	case tandem.EINVALID:
		return http.StatusBadRequest
	case tandem.EDUPLICATE, tandem.ECONFLICT:
		return http.StatusConflict
	case tandem.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case tandem.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case tandem.EFORBIDDEN:
		return http.StatusForbidden
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the JSON shape of every API error: {"error":{"code":"...","message":"..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError writes err as a JSON error with the status of its tandem code (ErrorStatus).
// Only internal errors are logged (with the request id), and their details never reach the
// client: it sees the code "internal" and a generic message.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := tandem.ErrorCode(err)
	if code == tandem.EINTERNAL {
		if logger == nil {
			logger = slog.Default()
		}
		logger.ErrorContext(r.Context(), "http request failed",
			"method", r.Method, "path", r.URL.Path, "request_id", RequestID(r.Context()), "error", err)
	}
	writeErrorJSON(w, ErrorStatus(code), code, tandem.ErrorMessage(err))
}

// writeErrorJSON writes an error body with an explicit status, for HTTP-level errors that have
// no tandem code (415 Unsupported Media Type).
func writeErrorJSON(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent; an encoding or write error can only mean the client went away.
	_ = json.NewEncoder(w).Encode(v)
}

// methodNotAllowed answers 405 with a JSON error and the Allow header.
func methodNotAllowed(allow ...string) http.Handler {
	methods := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", methods)
		writeErrorJSON(w, http.StatusMethodNotAllowed, tandem.EINVALID, "method "+r.Method+" not allowed; use "+methods)
	})
}
