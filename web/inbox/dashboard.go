package inbox

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// UnansweredPath is the knowledge editors' report of questions the bot could not answer
// (web/kb), linked from the dashboard.
const UnansweredPath = "/kb/unanswered"

// FeedbackPath is the editors' report of answers customers found unhelpful (web/kb).
const FeedbackPath = "/kb/feedback"

// canSupervise reports whether the agent may see the dashboard.
func canSupervise(a *tandem.Agent) bool {
	return a != nil && (a.Role == tandem.AgentRoleSupervisor || a.Role == tandem.AgentRoleAdmin)
}

// period is a span the dashboard summarises.
type period struct {
	Name, Label string
	since       func(now time.Time) time.Time
}

// periods are the dashboard's spans; the first is the default.
var periods = []period{
	{"today", "Today", func(now time.Time) time.Time { return now.UTC().Truncate(24 * time.Hour) }},
	{"7d", "Last 7 days", func(now time.Time) time.Time { return now.Add(-7 * 24 * time.Hour) }},
}

// dashboardData is the data of the dashboard page.
type dashboardData struct {
	Period     string
	Since      time.Time
	Periods    []periodLink
	Queues     []queueLine
	CSATQueues []csatLine
	CSATAgents []csatLine
	Started    int    // conversations started in the period
	WithTicket int    // ... that had a ticket
	Contained  string // share without a ticket; "" when none started
	Unanswered int
	KBLink     string
	// Rated counts the votes on knowledge answers, Helpful the share helpful ("" when none).
	Rated   int
	Helpful string
	RatedKB string
}

type periodLink struct {
	Label, Link string
	Current     bool
}

type queueLine struct {
	storage.QueueStats
	OldestWait, MedianClaim string // "" when there is none
}

type csatLine struct {
	Name    string
	Count   int
	Average string
}

// handleDashboard shows supervisors and admins, for a period, each queue's tickets, CSAT
// per queue and agent, the bot's containment and the unanswered questions.
func (h *handler) handleDashboard(w http.ResponseWriter, r *http.Request, agent *tandem.Agent) {
	if !canSupervise(agent) {
		h.fail(w, r, agent, tandem.Errorf(tandem.EFORBIDDEN,
			"the dashboard is for supervisors and admins; you are signed in as %s with the role %s (an admin can run: tandem users set %s --role supervisor)",
			agent.Email, agent.Role, agent.Email))
		return
	}
	i := 0
	if name := r.URL.Query().Get("period"); name != "" {
		i = slices.IndexFunc(periods, func(q period) bool { return q.Name == name })
	}
	if i < 0 {
		h.fail(w, r, agent, tandem.Errorf(tandem.EINVALID, "no period %q; choose today or 7d", r.URL.Query().Get("period")))
		return
	}
	p := periods[i]
	ctx := r.Context()
	now := h.cfg.Now()
	d := dashboardData{Period: p.Label, Since: p.since(now), KBLink: UnansweredPath}
	for _, q := range periods {
		d.Periods = append(d.Periods, periodLink{Label: q.Label, Link: "/inbox/dashboard?period=" + q.Name, Current: q.Name == p.Name})
	}
	queues, err := h.store.QueueStats(ctx, d.Since, now)
	if err != nil {
		h.fail(w, r, agent, fmt.Errorf("dashboard: %w", err))
		return
	}
	for _, q := range queues {
		d.Queues = append(d.Queues, queueLine{QueueStats: q, OldestWait: durationText(q.OldestWait), MedianClaim: durationText(q.MedianClaim)})
	}
	csat, err := h.store.CSATStats(ctx, d.Since)
	if err != nil {
		h.fail(w, r, agent, fmt.Errorf("dashboard: %w", err))
		return
	}
	names, err := h.agentNames(ctx)
	if err != nil {
		h.fail(w, r, agent, fmt.Errorf("dashboard: %w", err))
		return
	}
	d.CSATQueues = csatLines(csat.ByQueue, nil)
	d.CSATAgents = csatLines(csat.ByAgent, names)
	convs, err := h.store.ConversationStats(ctx, d.Since)
	if err != nil {
		h.fail(w, r, agent, fmt.Errorf("dashboard: %w", err))
		return
	}
	d.Started, d.WithTicket = convs.Started, convs.WithTicket
	if convs.Started > 0 {
		d.Contained = formatPct(float64(convs.Started-convs.WithTicket) / float64(convs.Started))
	}
	if d.Unanswered, err = h.store.CountAudit(ctx, tandem.AuditQuestionUnanswered, d.Since); err != nil {
		h.fail(w, r, agent, fmt.Errorf("dashboard: %w", err))
		return
	}
	votes, err := h.store.AnswerFeedbackStats(ctx, d.Since)
	if err != nil {
		h.fail(w, r, agent, fmt.Errorf("dashboard: %w", err))
		return
	}
	d.Rated, d.RatedKB = votes.Rated, FeedbackPath
	if votes.Rated > 0 {
		d.Helpful = formatPct(votes.HelpfulRate())
	}
	h.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Agent: agent, CSRF: h.csrfToken(agent.ID), Data: d})
}

// csatLines formats rating groups, naming their keys from names when given.
func csatLines(gs []storage.CSATGroup, names map[string]string) []csatLine {
	out := make([]csatLine, 0, len(gs))
	for _, g := range gs {
		name := g.Key
		if names != nil {
			name = orDefault(names[g.Key], orDefault(g.Key, "(unknown agent)"))
		}
		out = append(out, csatLine{Name: name, Count: g.Count, Average: strconv.FormatFloat(g.Average(), 'f', 1, 64)})
	}
	return out
}

// durationText is waitText for a duration that may be none (zero).
func durationText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return waitText(d)
}
