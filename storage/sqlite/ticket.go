package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const ticketCols = `id, conversation_id, bot_id, queue, priority, reason, status, agent_id, created_at, claimed_at, closed_at, desk_ref, language, escalated_at, escalation`

func scanTicket(row interface{ Scan(...any) error }) (*tandem.Ticket, error) {
	var t tandem.Ticket
	var created int64
	var claimed, closed, escalated sql.NullInt64
	if err := row.Scan(&t.ID, &t.ConversationID, &t.BotID, &t.Queue, &t.Priority, &t.Reason, &t.Status, &t.AgentID, &created, &claimed, &closed, &t.DeskRef,
		&t.Language, &escalated, &t.Escalation); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(created)
	t.ClaimedAt, t.ClosedAt, t.EscalatedAt = timePtr(claimed), timePtr(closed), timePtr(escalated)
	return &t, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return dbTime(*t).UnixMicro()
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
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tickets (`+ticketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.ConversationID, t.BotID, t.Queue, t.Priority, t.Reason, t.Status, t.AgentID, t.CreatedAt.UnixMicro(), nullMicros(t.ClaimedAt), nullMicros(t.ClosedAt), t.DeskRef,
			t.Language, nullMicros(t.EscalatedAt), t.Escalation)
		return err
	})
	return translate("create ticket", err)
}

func (s *Store) findTicket(ctx context.Context, q querier, id string) (*tandem.Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("ticket", id)
	}
	return t, err
}

// FindTicketByID returns the ticket or ENOTFOUND.
func (s *Store) FindTicketByID(ctx context.Context, id string) (*tandem.Ticket, error) {
	t, err := s.findTicket(ctx, s.r, id)
	if err != nil {
		return nil, translate("find ticket", err)
	}
	return t, nil
}

// FindActiveTicket returns the conversation's queued or claimed ticket, or ENOTFOUND.
func (s *Store) FindActiveTicket(ctx context.Context, conversationID string) (*tandem.Ticket, error) {
	t, err := scanTicket(s.r.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets WHERE conversation_id = ? AND status IN ('queued', 'claimed')`, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find active ticket", tandem.Errorf(tandem.ENOTFOUND, "no active ticket"))
	}
	if err != nil {
		return nil, translate("find active ticket", err)
	}
	return t, nil
}

// ClaimTicket gives a queued ticket to agentID. Claiming a ticket the same agent already
// holds returns it unchanged; any other non-queued ticket returns ECONFLICT.
func (s *Store) ClaimTicket(ctx context.Context, id, agentID string, at time.Time) (*tandem.Ticket, error) {
	var t *tandem.Ticket
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = s.findTicket(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Status == tandem.TicketClaimed && t.AgentID == agentID {
			return nil
		}
		if t.Status != tandem.TicketQueued {
			return tandem.Errorf(tandem.ECONFLICT, "ticket is %s", t.Status)
		}
		if err := checkCapacity(ctx, tx, agentID, id); err != nil {
			return err
		}
		claimed := dbTime(at)
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'claimed', agent_id = ?, claimed_at = ? WHERE id = ?`, agentID, claimed.UnixMicro(), id); err != nil {
			return err
		}
		t.Status, t.AgentID, t.ClaimedAt = tandem.TicketClaimed, agentID, &claimed
		return nil
	})
	if err != nil {
		return nil, translate("claim ticket", err)
	}
	return t, nil
}

// checkCapacity returns storage.AtCapacity when agentID holds their capacity of claimed
// tickets other than ticketID. One writer: the count and the write that follows cannot
// interleave with another claim or transfer. An agent without a row (or capacity 0) has
// no limit.
func checkCapacity(ctx context.Context, tx *sql.Tx, agentID, ticketID string) error {
	var capacity int
	err := tx.QueryRowContext(ctx, `SELECT capacity FROM agents WHERE id = ?`, agentID).Scan(&capacity)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if capacity <= 0 {
		return nil
	}
	var held int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE agent_id = ? AND status = 'claimed' AND id <> ?`, agentID, ticketID).Scan(&held); err != nil {
		return err
	}
	if held >= capacity {
		return storage.AtCapacity(held, capacity)
	}
	return nil
}

// UpdateTicket sets the non-nil fields.
func (s *Store) UpdateTicket(ctx context.Context, id string, upd storage.TicketUpdate) (*tandem.Ticket, error) {
	var t *tandem.Ticket
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var set []string
		var args []any
		if upd.Status != nil {
			set, args = append(set, "status = ?"), append(args, *upd.Status)
		}
		if upd.AgentID != nil {
			set, args = append(set, "agent_id = ?"), append(args, *upd.AgentID)
		}
		if upd.Queue != nil {
			set, args = append(set, "queue = ?"), append(args, *upd.Queue)
		}
		if upd.Priority != nil {
			set, args = append(set, "priority = ?"), append(args, *upd.Priority)
		}
		if upd.DeskRef != nil {
			set, args = append(set, "desk_ref = ?"), append(args, *upd.DeskRef)
		}
		if upd.ClosedAt != nil {
			set, args = append(set, "closed_at = ?"), append(args, nullMicros(upd.ClosedAt))
		}
		if upd.ClaimedAt != nil {
			var v any // the zero time clears
			if !upd.ClaimedAt.IsZero() {
				v = nullMicros(upd.ClaimedAt)
			}
			set, args = append(set, "claimed_at = ?"), append(args, v)
		}
		var err error
		if t, err = s.findTicket(ctx, tx, id); err != nil {
			return err
		}
		// The writer is single, so what was just read is what the update changes.
		if (upd.IfStatus != nil && t.Status != *upd.IfStatus) || (upd.IfAgentID != nil && t.AgentID != *upd.IfAgentID) {
			return tandem.Errorf(tandem.ECONFLICT, "the ticket changed meanwhile")
		}
		if upd.IfAgentBelowCapacity && upd.AgentID != nil && *upd.AgentID != "" {
			if err := checkCapacity(ctx, tx, *upd.AgentID, id); err != nil {
				return err
			}
		}
		if len(set) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...); err != nil {
			return err
		}
		t, err = s.findTicket(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, translate("update ticket", err)
	}
	return t, nil
}

// EscalateTicket marks an active ticket escalated at most once (storage.TicketStore).
func (s *Store) EscalateTicket(ctx context.Context, id string, e storage.TicketEscalation) (*tandem.Ticket, error) {
	var t *tandem.Ticket
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tickets SET escalated_at = ?, escalation = ?, priority = priority + ?
			WHERE id = ? AND escalated_at IS NULL AND status IN ('queued', ?)`, dbTime(e.At).UnixMicro(), e.Reason, e.Raise, id, escalable(e))
		if err != nil {
			return err
		}
		if t, err = s.findTicket(ctx, tx, id); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if t.Escalated() {
				return tandem.Errorf(tandem.ECONFLICT, "the ticket was escalated already")
			}
			return tandem.Errorf(tandem.ECONFLICT, "the ticket is %s", t.Status)
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
	if f.BotID != "" {
		where, args = append(where, "bot_id = ?"), append(args, f.BotID)
	}
	if f.Queue != "" {
		where, args = append(where, "queue = ?"), append(args, f.Queue)
	}
	if !f.CreatedBefore.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, dbTime(f.CreatedBefore).UnixMicro())
	}
	if f.Escalated != nil && *f.Escalated {
		where = append(where, "escalated_at IS NOT NULL")
	} else if f.Escalated != nil {
		where = append(where, "escalated_at IS NULL")
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	if f.DeskRef != "" {
		where, args = append(where, "desk_ref = ? AND desk_ref <> ''"), append(args, f.DeskRef)
	}
	q := `SELECT ` + ticketCols + ` FROM tickets`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at, seq`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("list tickets", err)
	}
	defer rows.Close()
	out := []tandem.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, translate("list tickets", err)
		}
		out = append(out, *t)
	}
	return out, translate("list tickets", rows.Err())
}

const agentCols = `id, name, email, role, skills, languages, capacity, created_at`

func scanAgent(row interface{ Scan(...any) error }) (*tandem.Agent, error) {
	var a tandem.Agent
	var skills, langs string
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.Email, &a.Role, &skills, &langs, &a.Capacity, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(skills), &a.Skills); err != nil {
		return nil, fmt.Errorf("decode skills: %w", err)
	}
	if err := json.Unmarshal([]byte(langs), &a.Languages); err != nil {
		return nil, fmt.Errorf("decode languages: %w", err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
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
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO agents (`+agentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Name, a.Email, a.Role, jsonList(a.Skills), jsonList(a.Languages), a.Capacity, a.CreatedAt.UnixMicro())
		return err
	})
	return translate("create agent", err)
}

// FindAgentByID returns the agent or ENOTFOUND.
func (s *Store) FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error) {
	a, err := scanAgent(s.r.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find agent", notFound("agent", id))
	}
	if err != nil {
		return nil, translate("find agent", err)
	}
	return a, nil
}

// FindAgentByEmail returns the agent with that email (case-insensitive) or ENOTFOUND.
func (s *Store) FindAgentByEmail(ctx context.Context, email string) (*tandem.Agent, error) {
	a, err := scanAgent(s.r.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE lower(email) = lower(?)`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find agent", notFound("agent", email))
	}
	if err != nil {
		return nil, translate("find agent", err)
	}
	return a, nil
}

// ListAgents returns all agents ordered by name.
func (s *Store) ListAgents(ctx context.Context) ([]tandem.Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY name, id`)
	if err != nil {
		return nil, translate("list agents", err)
	}
	defer rows.Close()
	out := []tandem.Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, translate("list agents", err)
		}
		out = append(out, *a)
	}
	return out, translate("list agents", rows.Err())
}

// UpdateAgent sets the non-nil fields.
func (s *Store) UpdateAgent(ctx context.Context, id string, upd storage.AgentUpdate) (*tandem.Agent, error) {
	var set []string
	var args []any
	if upd.Name != nil {
		set, args = append(set, "name = ?"), append(args, *upd.Name)
	}
	if upd.Role != nil {
		set, args = append(set, "role = ?"), append(args, *upd.Role)
	}
	if upd.Skills != nil {
		set, args = append(set, "skills = ?"), append(args, jsonList(upd.Skills))
	}
	if upd.Languages != nil {
		set, args = append(set, "languages = ?"), append(args, jsonList(upd.Languages))
	}
	if upd.Capacity != nil {
		set, args = append(set, "capacity = ?"), append(args, *upd.Capacity)
	}
	var a *tandem.Agent
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if upd.Role != nil && *upd.Role != tandem.AgentRoleAdmin {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if len(set) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE agents SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...); err != nil {
				return err
			}
		}
		var err error
		a, err = scanAgent(tx.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("agent", id)
		}
		return err
	})
	if err != nil {
		return nil, translate("update agent", err)
	}
	return a, nil
}

// keepAnAdmin returns storage.LastAdmin when agent id is the only admin; the single writer
// makes the check and the demotion one step.
func keepAnAdmin(ctx context.Context, tx *sql.Tx, id string) error {
	var others int
	var email string
	err := tx.QueryRowContext(ctx, `SELECT email, (SELECT count(*) FROM agents WHERE role = 'admin' AND id <> ?) FROM agents WHERE id = ? AND role = 'admin'`,
		id, id).Scan(&email, &others)
	switch {
	case errors.Is(err, sql.ErrNoRows): // not an admin (or no such agent)
		return nil
	case err != nil:
		return err
	case others == 0:
		return storage.LastAdmin(email)
	}
	return nil
}

// AppendAudit stores e, assigning ID and, when zero, At.
func (s *Store) AppendAudit(ctx context.Context, e *tandem.AuditEntry) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, e) })
	return translate("append audit", err)
}

func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e *tandem.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = dbTime(e.At)
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`,
		e.At.UnixMicro(), e.Actor, e.Action, e.Subject, string(detail))
	if err != nil {
		return err
	}
	e.ID, err = res.LastInsertId()
	return err
}

// ListAudit returns matching entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]tandem.AuditEntry, error) {
	var where []string
	var args []any
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	q := `SELECT id, at, actor, action, subject, detail FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("list audit", err)
	}
	defer rows.Close()
	out := []tandem.AuditEntry{}
	for rows.Next() {
		var e tandem.AuditEntry
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &detail); err != nil {
			return nil, translate("list audit", err)
		}
		e.At = fromMicros(at)
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, translate("list audit", fmt.Errorf("decode detail: %w", err))
		}
		out = append(out, e)
	}
	return out, translate("list audit", rows.Err())
}
