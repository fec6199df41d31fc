package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const ticketCols = `id, conversation_id, bot_id, queue, priority, reason, status, agent_id, created_at, claimed_at, closed_at, desk_ref, language, escalated_at, escalation`

func scanTicket(row pgx.Row) (*tandem.Ticket, error) {
	var t tandem.Ticket
	if err := row.Scan(&t.ID, &t.ConversationID, &t.BotID, &t.Queue, &t.Priority, &t.Reason, &t.Status, &t.AgentID, &t.CreatedAt, &t.ClaimedAt, &t.ClosedAt, &t.DeskRef,
		&t.Language, &t.EscalatedAt, &t.Escalation); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ClaimedAt, t.ClosedAt, t.EscalatedAt = utc(t.CreatedAt), utcPtr(t.ClaimedAt), utcPtr(t.ClosedAt), utcPtr(t.EscalatedAt)
	return &t, nil
}

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// CreateTicket stores t, assigning ID, Status (queued) and CreatedAt; a second active
// ticket for the conversation returns EDUPLICATE.
func (s *Store) CreateTicket(ctx context.Context, t *tandem.Ticket) error {
	if t.ID == "" {
		t.ID = newID()
	}
	if t.Status == "" {
		t.Status = tandem.TicketQueued
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt = dbTime(t.CreatedAt)
	t.ClaimedAt, t.ClosedAt, t.EscalatedAt = dbTimePtr(t.ClaimedAt), dbTimePtr(t.ClosedAt), dbTimePtr(t.EscalatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO tickets (`+ticketCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		t.ID, t.ConversationID, t.BotID, t.Queue, t.Priority, t.Reason, t.Status, t.AgentID, t.CreatedAt, t.ClaimedAt, t.ClosedAt, t.DeskRef,
		t.Language, t.EscalatedAt, t.Escalation)
	return translate("create ticket", err)
}

func findTicket(ctx context.Context, q db, id string) (*tandem.Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketCols+` FROM tickets WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("ticket", id)
	}
	return t, err
}

// FindTicketByID returns the ticket or ENOTFOUND.
func (s *Store) FindTicketByID(ctx context.Context, id string) (*tandem.Ticket, error) {
	t, err := findTicket(ctx, s.pool, id)
	if err != nil {
		return nil, translate("find ticket", err)
	}
	return t, nil
}

// FindActiveTicket returns the conversation's queued or claimed ticket, or ENOTFOUND.
func (s *Store) FindActiveTicket(ctx context.Context, conversationID string) (*tandem.Ticket, error) {
	t, err := scanTicket(s.pool.QueryRow(ctx, `SELECT `+ticketCols+` FROM tickets WHERE conversation_id = $1 AND status IN ('queued', 'claimed')`, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find active ticket", tandem.Errorf(tandem.ENOTFOUND, "no active ticket"))
	}
	if err != nil {
		return nil, translate("find active ticket", err)
	}
	return t, nil
}

// ClaimTicket gives a queued ticket to agentID with one conditional UPDATE, so exactly one
// concurrent claimer wins. Claiming a ticket the same agent holds returns it unchanged; any
// other non-queued ticket returns ECONFLICT.
func (s *Store) ClaimTicket(ctx context.Context, id, agentID string, at time.Time) (*tandem.Ticket, error) {
	var t *tandem.Ticket
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkCapacity(ctx, tx, agentID, id); err != nil {
			return err
		}
		var err error
		t, err = scanTicket(tx.QueryRow(ctx, `UPDATE tickets SET status = 'claimed', agent_id = $2, claimed_at = $3
			WHERE id = $1 AND status = 'queued' RETURNING `+ticketCols, id, agentID, dbTime(at)))
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if t, err = findTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.Status == tandem.TicketClaimed && t.AgentID == agentID {
			return nil
		}
		return tandem.Errorf(tandem.ECONFLICT, "ticket is %s", t.Status)
	})
	if err != nil {
		return nil, translate("claim ticket", err)
	}
	return t, nil
}

// checkCapacity returns storage.AtCapacity when agentID holds their capacity of claimed
// tickets other than ticketID. It locks the agent's row first, which orders the claims and
// transfers to one agent, so two at once cannot both pass; an agent without a row (or
// capacity 0) has no limit.
func checkCapacity(ctx context.Context, tx pgx.Tx, agentID, ticketID string) error {
	var capacity int
	err := tx.QueryRow(ctx, `SELECT capacity FROM agents WHERE id = $1 FOR UPDATE`, agentID).Scan(&capacity)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if capacity <= 0 {
		return nil
	}
	var held int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE agent_id = $1 AND status = 'claimed' AND id <> $2`,
		agentID, ticketID).Scan(&held); err != nil {
		return err
	}
	if held >= capacity {
		return storage.AtCapacity(held, capacity)
	}
	return nil
}

// UpdateTicket sets the non-nil fields; with IfAgentBelowCapacity the capacity check and
// the update are one transaction holding the receiving agent's row lock (checkCapacity).
func (s *Store) UpdateTicket(ctx context.Context, id string, upd storage.TicketUpdate) (*tandem.Ticket, error) {
	var set []string
	args := []any{id}
	add := func(col string, v any) {
		args = append(args, v)
		set = append(set, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if upd.Status != nil {
		add("status", *upd.Status)
	}
	if upd.AgentID != nil {
		add("agent_id", *upd.AgentID)
	}
	if upd.Queue != nil {
		add("queue", *upd.Queue)
	}
	if upd.Priority != nil {
		add("priority", *upd.Priority)
	}
	if upd.ClosedAt != nil {
		add("closed_at", dbTime(*upd.ClosedAt))
	}
	if upd.DeskRef != nil {
		add("desk_ref", *upd.DeskRef)
	}
	if upd.ClaimedAt != nil {
		var v *time.Time // the zero time clears
		if !upd.ClaimedAt.IsZero() {
			v = dbTimePtr(upd.ClaimedAt)
		}
		add("claimed_at", v)
	}
	where := []string{"id = $1"}
	if upd.IfStatus != nil {
		args = append(args, *upd.IfStatus)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	if upd.IfAgentID != nil {
		args = append(args, *upd.IfAgentID)
		where = append(where, fmt.Sprintf("agent_id = $%d", len(args)))
	}
	var t *tandem.Ticket
	update := func(q db) error {
		var err error
		switch {
		case len(set) == 0 && len(where) == 1:
			t, err = findTicket(ctx, q, id)
			return err
		case len(set) == 0:
			// Only a condition: the ticket is returned when it holds.
			set = []string{"id = id"}
		}
		t, err = scanTicket(q.QueryRow(ctx, `UPDATE tickets SET `+strings.Join(set, ", ")+` WHERE `+strings.Join(where, " AND ")+` RETURNING `+ticketCols, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			// Either there is no such ticket or the condition failed.
			if _, err = findTicket(ctx, q, id); err == nil {
				err = tandem.Errorf(tandem.ECONFLICT, "the ticket changed meanwhile")
			}
		}
		return err
	}
	var err error
	if upd.IfAgentBelowCapacity && upd.AgentID != nil && *upd.AgentID != "" {
		err = s.tx(ctx, func(tx pgx.Tx) error {
			if err := checkCapacity(ctx, tx, *upd.AgentID, id); err != nil {
				return err
			}
			return update(tx)
		})
	} else {
		err = update(s.pool)
	}
	if err != nil {
		return nil, translate("update ticket", err)
	}
	return t, nil
}

// EscalateTicket marks an active ticket escalated at most once (storage.TicketStore): one
// conditional UPDATE, so exactly one of concurrent escalators wins, and the audit entry in
// the same transaction.
func (s *Store) EscalateTicket(ctx context.Context, id string, e storage.TicketEscalation) (*tandem.Ticket, error) {
	var t *tandem.Ticket
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTicket(tx.QueryRow(ctx, `UPDATE tickets SET escalated_at = $2, escalation = $3, priority = priority + $4
			WHERE id = $1 AND escalated_at IS NULL AND status IN ('queued', $5) RETURNING `+ticketCols,
			id, dbTime(e.At), e.Reason, e.Raise, escalable(e)))
		if errors.Is(err, pgx.ErrNoRows) {
			cur, err := findTicket(ctx, tx, id)
			switch {
			case err != nil:
				return err
			case cur.Escalated():
				return tandem.Errorf(tandem.ECONFLICT, "the ticket was escalated already")
			default:
				return tandem.Errorf(tandem.ECONFLICT, "the ticket is %s", cur.Status)
			}
		}
		if err != nil {
			return err
		}
		if e.Audit != nil {
			return s.appendAudit(ctx, tx, e.Audit)
		}
		return nil
	})
	if err != nil {
		return nil, translate("escalate ticket", err)
	}
	return t, nil
}

// escalable is the status besides queued a ticket may have to be escalated.
func escalable(e storage.TicketEscalation) tandem.TicketStatus {
	if e.QueuedOnly {
		return tandem.TicketQueued
	}
	return tandem.TicketClaimed
}

// ListTickets returns matching tickets, oldest first.
func (s *Store) ListTickets(ctx context.Context, f storage.TicketFilter) ([]tandem.Ticket, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.BotID != "" {
		add("bot_id = $%d", f.BotID)
	}
	if f.Queue != "" {
		add("queue = $%d", f.Queue)
	}
	if !f.CreatedBefore.IsZero() {
		add("created_at < $%d", dbTime(f.CreatedBefore))
	}
	if f.Escalated != nil && *f.Escalated {
		where = append(where, "escalated_at IS NOT NULL")
	} else if f.Escalated != nil {
		where = append(where, "escalated_at IS NULL")
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.AgentID != "" {
		add("agent_id = $%d", f.AgentID)
	}
	if f.DeskRef != "" {
		add("desk_ref = $%d AND desk_ref <> ''", f.DeskRef)
	}
	q := `SELECT ` + ticketCols + ` FROM tickets`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at, seq`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list tickets", err)
	}
	out, err := collect(rows, scanTicket)
	return out, translate("list tickets", err)
}

const agentCols = `id, name, email, role, skills, languages, capacity, created_at`

func scanAgent(row pgx.Row) (*tandem.Agent, error) {
	var a tandem.Agent
	if err := row.Scan(&a.ID, &a.Name, &a.Email, &a.Role, &a.Skills, &a.Languages, &a.Capacity, &a.CreatedAt); err != nil {
		return nil, err
	}
	if a.Skills == nil {
		a.Skills = []string{}
	}
	if a.Languages == nil {
		a.Languages = []string{}
	}
	a.CreatedAt = utc(a.CreatedAt)
	return &a, nil
}

// CreateAgent stores a, assigning ID and CreatedAt; a taken email (case-insensitive)
// returns EDUPLICATE.
func (s *Store) CreateAgent(ctx context.Context, a *tandem.Agent) error {
	if a.ID == "" {
		a.ID = newID()
	}
	if a.Role == "" {
		a.Role = tandem.AgentRoleAgent
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	a.CreatedAt = dbTime(a.CreatedAt)
	if a.Skills == nil {
		a.Skills = []string{}
	}
	if a.Languages == nil {
		a.Languages = []string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO agents (`+agentCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.Name, a.Email, a.Role, a.Skills, a.Languages, a.Capacity, a.CreatedAt)
	return translate("create agent", err)
}

// FindAgentByID returns the agent or ENOTFOUND.
func (s *Store) FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error) {
	a, err := scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find agent", notFound("agent", id))
	}
	if err != nil {
		return nil, translate("find agent", err)
	}
	return a, nil
}

// FindAgentByEmail returns the agent with that email (case-insensitive) or ENOTFOUND.
func (s *Store) FindAgentByEmail(ctx context.Context, email string) (*tandem.Agent, error) {
	a, err := scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE lower(email) = lower($1)`, email))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find agent", notFound("agent", email))
	}
	if err != nil {
		return nil, translate("find agent", err)
	}
	return a, nil
}

// ListAgents returns all agents ordered by name.
func (s *Store) ListAgents(ctx context.Context) ([]tandem.Agent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+agentCols+` FROM agents ORDER BY name, id`)
	if err != nil {
		return nil, translate("list agents", err)
	}
	out, err := collect(rows, scanAgent)
	return out, translate("list agents", err)
}

// UpdateAgent sets the non-nil fields.
func (s *Store) UpdateAgent(ctx context.Context, id string, upd storage.AgentUpdate) (*tandem.Agent, error) {
	var set []string
	args := []any{id}
	add := func(col string, v any) {
		args = append(args, v)
		set = append(set, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if upd.Name != nil {
		add("name", *upd.Name)
	}
	if upd.Role != nil {
		add("role", *upd.Role)
	}
	if upd.Skills != nil {
		add("skills", upd.Skills)
	}
	if upd.Languages != nil {
		add("languages", upd.Languages)
	}
	if upd.Capacity != nil {
		add("capacity", *upd.Capacity)
	}
	q := `SELECT ` + agentCols + ` FROM agents WHERE id = $1`
	if len(set) > 0 {
		q = `UPDATE agents SET ` + strings.Join(set, ", ") + ` WHERE id = $1 RETURNING ` + agentCols
	}
	var a *tandem.Agent
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if upd.Role != nil && *upd.Role != tandem.AgentRoleAdmin {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		var err error
		a, err = scanAgent(tx.QueryRow(ctx, q, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("agent", id)
		}
		return err
	})
	if err != nil {
		return nil, translate("update agent", err)
	}
	return a, nil
}

// keepAnAdmin returns storage.LastAdmin when agent id is the only admin. It locks the
// admins' rows in one order first: a concurrent demotion waits, then finds the admin it
// demoted gone from the list, so of two admins demoting each other exactly one succeeds.
func keepAnAdmin(ctx context.Context, tx pgx.Tx, id string) error {
	rows, err := tx.Query(ctx, `SELECT id, email FROM agents WHERE role = 'admin' ORDER BY id FOR UPDATE`)
	if err != nil {
		return err
	}
	type admin struct{ id, email string }
	admins, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (admin, error) {
		var a admin
		return a, row.Scan(&a.id, &a.email)
	})
	if err != nil {
		return err
	}
	if len(admins) == 1 && admins[0].id == id {
		return storage.LastAdmin(admins[0].email)
	}
	return nil
}

const insertAuditSQL = `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id`

// AppendAudit stores e, assigning ID and, when zero, At. The insert is group committed with
// concurrent turns (commit.go).
func (s *Store) AppendAudit(ctx context.Context, e *tandem.AuditEntry) error {
	s.prepareAudit(e)
	var id int64
	err := s.commit.do(ctx, "", func(b *pgx.Batch) {
		b.Queue(insertAuditSQL, e.At, e.Actor, e.Action, e.Subject, e.Detail).QueryRow(func(row pgx.Row) error {
			return row.Scan(&id)
		})
	})
	if err != nil {
		return translate("append audit", err)
	}
	e.ID = id
	return nil
}

// appendAudit stores e in the caller's transaction.
func (s *Store) appendAudit(ctx context.Context, q db, e *tandem.AuditEntry) error {
	s.prepareAudit(e)
	return q.QueryRow(ctx, insertAuditSQL, e.At, e.Actor, e.Action, e.Subject, e.Detail).Scan(&e.ID)
}

func (s *Store) prepareAudit(e *tandem.AuditEntry) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = dbTime(e.At)
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
}

// ListAudit returns matching entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]tandem.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Subject != "" {
		add("subject = $%d", f.Subject)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	q := `SELECT id, at, actor, action, subject, detail FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list audit", err)
	}
	out, err := collect(rows, func(row pgx.Row) (*tandem.AuditEntry, error) {
		var e tandem.AuditEntry
		if err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		e.At = utc(e.At)
		return &e, nil
	})
	return out, translate("list audit", err)
}
