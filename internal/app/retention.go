package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/jobs"
)

// newRetention builds the retention worker from the config, counting what it removes in
// reg as tandem_retention_deleted_total{kind}.
func (a *App) newRetention(reg prometheus.Registerer) *jobs.Retention {
	deleted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_retention_deleted_total",
		Help: "Rows removed by the retention worker, by kind (conversations: closed conversations deleted; redacted_messages: messages whose personal data was redacted)."},
		[]string{"kind"})
	for _, k := range []string{jobs.RetentionConversations, jobs.RetentionRedactedMessages, jobs.RetentionRedactedNotes} {
		deleted.WithLabelValues(k) // both series exist from the start, at 0
	}
	reg.MustRegister(deleted)
	r := a.cfg.Retention
	return jobs.NewRetention(a.store, jobs.RetentionConfig{ClosedConversations: r.ClosedConversations, RedactAfter: r.RedactAfter,
		Poll: r.Poll, Logger: a.logger, Observe: func(kind string, n int) { deleted.WithLabelValues(kind).Add(float64(n)) }})
}
