package web

import (
	"context"
	"net/http"
)

type statusBody struct {
	Status string `json:"status"`
}

// handleHealthz says the process is alive; it checks nothing else.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// handleReadyz says whether the server can serve requests: the store answers a ping within
// ReadyTimeout. The failure is logged, not shown.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.deps.Pinger != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
		defer cancel()
		if err := s.deps.Pinger.Ping(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready: store ping failed", "request_id", RequestID(r.Context()), "error", err)
			writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ready"})
}
