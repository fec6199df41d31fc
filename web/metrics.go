package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandemhq/tandem"
)

// metrics are the server's tandem_* Prometheus collectors.
type metrics struct {
	requests     *prometheus.CounterVec   // route, method, code
	duration     *prometheus.HistogramVec // route, method
	inFlight     prometheus.Gauge
	panics       prometheus.Counter
	turns        *prometheus.CounterVec   // bot, decision
	turnDuration *prometheus.HistogramVec // bot
	turnErrors   *prometheus.CounterVec   // code
	handoffs     *prometheus.CounterVec   // bot
	csat         *prometheus.CounterVec   // bot, score
	feedback     *prometheus.CounterVec   // bot, helpful
	gatherer     prometheus.Gatherer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tandem_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tandem_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tandem_http_panics_total",
			Help: "HTTP handler panics recovered.",
		}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_turns_total",
			Help: "Engine turns answered through the web server, by bot and decision kind.",
		}, []string{"bot", "decision"}),
		turnDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tandem_turn_duration_seconds",
			Help:    "Time the engine took for a turn, by bot.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"bot"}),
		turnErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_turn_errors_total",
			Help: "Engine turns that failed, by error code.",
		}, []string{"code"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_handoffs_total",
			Help: "Turns that handed the conversation to a human, by bot.",
		}, []string{"bot"}),
		csat: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_csat_responses_total",
			Help: "Customers' ratings of closed handoff tickets (CSAT surveys), by bot and score from 1 to 5.",
		}, []string{"bot", "score"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_answer_feedback_total",
			Help: "Customers' votes on the bot's knowledge answers (a changed vote counts again), by bot and helpful (true or false).",
		}, []string{"bot", "helpful"}),
	}
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	m.inFlight = register(reg, m.inFlight)
	m.panics = register(reg, m.panics)
	m.turns = register(reg, m.turns)
	m.turnDuration = register(reg, m.turnDuration)
	m.turnErrors = register(reg, m.turnErrors)
	m.handoffs = register(reg, m.handoffs)
	m.csat = register(reg, m.csat)
	m.feedback = register(reg, m.feedback)
	return m
}

// register registers c, or returns the collector already registered under the same
// description, so two servers can share one registry (e.g. the default one).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("web: register metric: " + err.Error())
	}
	return c
}

// observeTurn records a successful turn.
func (m *metrics) observeTurn(bot string, t *tandem.Turn, seconds float64) {
	decision := string(t.Decision.Kind)
	if t.Duplicate {
		decision = string(tandem.DecisionDuplicate)
	}
	if decision == "" {
		decision = "none"
	}
	m.turns.WithLabelValues(bot, decision).Inc()
	m.turnDuration.WithLabelValues(bot).Observe(seconds)
	if t.Handoff != nil {
		m.handoffs.WithLabelValues(bot).Inc()
	}
	if t.CSATScore > 0 {
		m.csat.WithLabelValues(bot, strconv.Itoa(t.CSATScore)).Inc()
	}
}

// ObserveTurn records a turn answered outside the server's own routes (e.g. by a mounted
// WebSocket widget), so tandem_turns_total and friends count every channel the server hosts.
func (s *Server) ObserveTurn(bot string, t *tandem.Turn, took time.Duration) {
	s.metrics.observeTurn(bot, t, took.Seconds())
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      slogPromLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// slogPromLogger adapts the server's logger to promhttp's error log.
type slogPromLogger struct{ s *Server }

func (l slogPromLogger) Println(v ...any) {
	l.s.log.Error("metrics gathering failed", "error", fmt.Sprint(v...))
}
