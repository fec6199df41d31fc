package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/nlu/pii"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/kb"
)

// unansweredRecorder wraps the engine's knowledge answerer and appends an audit entry, with
// personal data redacted, for every question that got no confident answer.
type unansweredRecorder struct {
	bots.Answerer
	audit  storage.AuditStore
	logger *slog.Logger
}

func (u unansweredRecorder) Answer(ctx context.Context, q bots.Question) (*bots.KnowledgeAnswer, error) {
	a, err := u.Answerer.Answer(ctx, q)
	if err != nil || a.Found {
		return a, err
	}
	question, _ := pii.Redact(q.Text)
	e := &tandem.AuditEntry{
		Actor:   "system",
		Action:  kb.ActionUnanswered,
		Subject: strings.Join(q.Collections, ","),
		Detail:  map[string]string{"question": question, "language": q.Language, "reason": a.Reason},
	}
	if err := u.audit.AppendAudit(ctx, e); err != nil {
		// The report is a curation aid: losing one entry must not fail the customer's turn.
		u.logger.Warn("record unanswered question", "err", err)
	}
	return a, nil
}
