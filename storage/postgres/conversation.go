package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const conversationCols = `id, bot_id, customer_id, channel, status, state, created_at, updated_at`

func scanConversation(row pgx.Row) (*tandem.Conversation, error) {
	var c tandem.Conversation
	if err := row.Scan(&c.ID, &c.BotID, &c.CustomerID, &c.Channel, &c.Status, &c.State, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	return &c, nil
}

// CreateConversation stores c, assigning ID, Status (open), CreatedAt and UpdatedAt when empty.
func (s *Store) CreateConversation(ctx context.Context, c *tandem.Conversation) error {
	if c.ID == "" {
		c.ID = newID()
	}
	if c.Status == "" {
		c.Status = tandem.StatusOpen
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	c.CreatedAt = dbTime(c.CreatedAt)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.UpdatedAt = dbTime(c.UpdatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO conversations (`+conversationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.BotID, c.CustomerID, c.Channel, c.Status, c.State, c.CreatedAt, c.UpdatedAt)
	return translate("create conversation", err)
}

// FindConversationByID returns the conversation or ENOTFOUND.
func (s *Store) FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find conversation", notFound("conversation", id))
	}
	if err != nil {
		return nil, translate("find conversation", err)
	}
	return c, nil
}

// FindOpenConversation returns the customer's newest not-closed conversation with the bot.
func (s *Store) FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE customer_id = $1 AND bot_id = $2 AND status <> 'closed' ORDER BY updated_at DESC, id DESC LIMIT 1`, customerID, botID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find open conversation", tandem.Errorf(tandem.ENOTFOUND, "no open conversation"))
	}
	if err != nil {
		return nil, translate("find open conversation", err)
	}
	return c, nil
}

// One statement for every combination of fields keeps it prepared once per connection.
const updateConversationSQL = `UPDATE conversations SET updated_at = $1, status = coalesce($2, status),
	channel = coalesce($3, channel), state = CASE WHEN $4 THEN $5::bytea ELSE state END,
	customer_id = coalesce($6, customer_id) WHERE id = $7 RETURNING ` + conversationCols

func (s *Store) updateConversationArgs(id string, upd storage.ConversationUpdate) []any {
	var status, channel, customer *string
	if upd.Status != nil {
		v := string(*upd.Status)
		status = &v
	}
	if upd.Channel != nil {
		v := string(*upd.Channel)
		channel = &v
	}
	customer = upd.CustomerID
	return []any{s.now(), status, channel, upd.State != nil, upd.State, customer, id}
}

// UpdateConversation sets the non-nil fields and bumps UpdatedAt.
func (s *Store) UpdateConversation(ctx context.Context, id string, upd storage.ConversationUpdate) (*tandem.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, updateConversationSQL, s.updateConversationArgs(id, upd)...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("update conversation", notFound("conversation", id))
	}
	if err != nil {
		return nil, translate("update conversation", err)
	}
	return c, nil
}

// ListConversations returns matching conversations, most recently updated first.
func (s *Store) ListConversations(ctx context.Context, f storage.ConversationFilter) ([]tandem.Conversation, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.BotID != "" {
		add("bot_id = $%d", f.BotID)
	}
	if f.CustomerID != "" {
		add("customer_id = $%d", f.CustomerID)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if !f.UpdatedBefore.IsZero() {
		add("updated_at < $%d", dbTime(f.UpdatedBefore))
	}
	q := `SELECT ` + conversationCols + ` FROM conversations`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit, max(f.Offset, 0))
	q += fmt.Sprintf(` ORDER BY updated_at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list conversations", err)
	}
	out, err := collect(rows, scanConversation)
	return out, translate("list conversations", err)
}

const messageCols = `id, conversation_id, role, channel, text, provider_id, author_id, annotations, decision, citations, created_at`

func scanMessage(row pgx.Row) (*tandem.Message, error) {
	var m tandem.Message
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Role, &m.Channel, &m.Text, &m.ProviderID, &m.AuthorID, &m.Annotations, &m.Decision, &m.Citations, &m.CreatedAt); err != nil {
		return nil, err
	}
	m.CreatedAt = utc(m.CreatedAt)
	return &m, nil
}

const insertMessageSQL = `INSERT INTO messages (` + messageCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

func (s *Store) prepareMessage(m *tandem.Message) ([]any, error) {
	if m.ConversationID == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "message needs a conversation id")
	}
	if m.ID == "" {
		m.ID = newID()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	m.CreatedAt = dbTime(m.CreatedAt)
	var cit any
	if len(m.Citations) > 0 {
		cit = m.Citations
	}
	return []any{m.ID, m.ConversationID, m.Role, m.Channel, m.Text, m.ProviderID, m.AuthorID, m.Annotations, m.Decision, cit, m.CreatedAt}, nil
}

// CreateMessage stores m, assigning ID and CreatedAt when empty; a (Channel, ProviderID)
// stored before returns EDUPLICATE. A single INSERT (the unique index makes it atomic),
// group committed like turns: every message from Twilio, Slack or Discord is stored this
// way, on its own, before the bot acts.
func (s *Store) CreateMessage(ctx context.Context, m *tandem.Message) error {
	args, err := s.prepareMessage(m)
	if err != nil {
		return translate("create message", err)
	}
	err = s.commit.do(ctx, m.ConversationID, func(b *pgx.Batch) { b.Queue(insertMessageSQL, args...) })
	return translate("create message", err)
}

const setAnnotationsSQL = `UPDATE messages SET annotations = $1 WHERE id = $2`

// SetMessageAnnotations records NLU results on a stored message.
func (s *Store) SetMessageAnnotations(ctx context.Context, id string, a *tandem.Annotations) error {
	tag, err := s.pool.Exec(ctx, setAnnotationsSQL, a, id)
	if err != nil {
		return translate("set message annotations", err)
	}
	if tag.RowsAffected() == 0 {
		return translate("set message annotations", notFound("message", id))
	}
	return nil
}

// updateTurnConversationSQL is updateConversationSQL without RETURNING, parameters $1-$7.
const updateTurnConversationSQL = `UPDATE conversations SET updated_at = $1, status = coalesce($2, status),
	channel = coalesce($3, channel), state = CASE WHEN $4 THEN $5::bytea ELSE state END,
	customer_id = coalesce($6, customer_id) WHERE id = $7`

// FindMessageByProviderID returns the message with the provider's id on channel.
func (s *Store) FindMessageByProviderID(ctx context.Context, channel tandem.Channel, providerID string) (*tandem.Message, error) {
	if providerID == "" {
		return nil, translate("find message", notFound("message", providerID))
	}
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE channel = $1 AND provider_id = $2 AND provider_id <> ''`, channel, providerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("find message", notFound("message", providerID))
	}
	return m, translate("find message", err)
}

// RecordTurn stores the turn's annotations, conversation update, inbound message, replies,
// their deliveries and audit entries in one transaction, group committed with concurrent turns (commit.go): one round trip and
// one WAL flush for the whole group. The conversation's update and the messages are one
// statement (one executor run instead of one per row and message); when the conversation is
// missing, the messages' foreign key aborts it (ENOTFOUND), and tandem_assert_found aborts a
// turn without messages, or whose inbound message to annotate is missing.
func (s *Store) RecordTurn(ctx context.Context, t storage.TurnRecord) error {
	msgs := t.Replies
	if t.Inbound != nil {
		msgs = append([]*tandem.Message{t.Inbound}, t.Replies...)
	}
	args := s.updateConversationArgs(t.ConversationID, t.Update)
	for _, m := range msgs {
		m.ConversationID = t.ConversationID
		if m.Role == "" && m != t.Inbound {
			m.Role = tandem.RoleBot
		}
		a, err := s.prepareMessage(m)
		if err != nil {
			return translate("record turn", err)
		}
		args = append(args, a...)
	}
	for _, e := range t.Audit {
		s.prepareAudit(e)
	}
	var deliveries []any
	if len(t.Deliveries) > 0 {
		var err error
		if deliveries, err = s.deliveryArgs(t.Deliveries); err != nil {
			return translate("record turn", err)
		}
	}
	var csat []any
	if t.CSAT != nil {
		csat = s.csatArgs(t.CSAT)
	}
	err := s.commit.do(ctx, t.ConversationID, func(b *pgx.Batch) {
		if t.CheckState {
			// Locks the row until the batch commits, so nothing can change it in between.
			b.Queue(`SELECT tandem_assert_state($1, $2)`, t.ConversationID, t.PrevState)
		}
		if t.Annotations != nil && t.InboundID != "" {
			b.Queue(annotateTurnSQL, t.Annotations, t.InboundID)
		}
		if len(msgs) == 0 {
			b.Queue(updateTurnSQL, args...)
		} else {
			b.Queue(recordTurnSQL(len(msgs)), args...)
		}
		if deliveries != nil {
			b.Queue(insertDeliveriesSQL, deliveries...)
		}
		for _, e := range t.Audit {
			b.Queue(insertAuditSQL, e.At, e.Actor, e.Action, e.Subject, e.Detail).QueryRow(func(row pgx.Row) error {
				return row.Scan(&e.ID)
			})
		}
		if csat != nil {
			b.Queue(insertCSATSQL, csat...)
		}
	})
	return translate("record turn", err)
}

const (
	annotateTurnSQL = `WITH u AS (UPDATE messages SET annotations = $1 WHERE id = $2 RETURNING 1)
		SELECT tandem_assert_found(EXISTS (SELECT 1 FROM u), 'message')`
	updateTurnSQL = `WITH u AS (` + updateTurnConversationSQL + ` RETURNING 1)
		SELECT tandem_assert_found(EXISTS (SELECT 1 FROM u), 'conversation')`
)

// recordTurnSQLs caches recordTurnSQL for 1 to 8 messages (a turn's inbound and replies).
var recordTurnSQLs [9]string

func init() {
	for n := 1; n < len(recordTurnSQLs); n++ {
		recordTurnSQLs[n] = buildRecordTurnSQL(n)
	}
}

// recordTurnSQL updates the conversation ($1-$7) and inserts n messages ($8 on) in one
// statement. The update runs first, so the messages' foreign-key checks, at the end of the
// statement, lock the conversation's new row version. Rows are inserted, and numbered by
// seq, in the order given.
func recordTurnSQL(n int) string {
	if n < len(recordTurnSQLs) {
		return recordTurnSQLs[n]
	}
	return buildRecordTurnSQL(n)
}

func buildRecordTurnSQL(n int) string {
	const first, cols = 8, 11 // after the update's parameters; messageCols
	var b strings.Builder
	b.WriteString(`WITH u AS (` + updateTurnConversationSQL + `) INSERT INTO messages (` + messageCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", first+i*cols+j)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// ListMessages returns a conversation's messages oldest first.
func (s *Store) ListMessages(ctx context.Context, conversationID string, f storage.MessageFilter) ([]tandem.Message, error) {
	return s.listMessages(ctx, "list messages", `conversation_id = $1`, conversationID, f)
}

// ListCustomerMessages returns the customer's messages across conversations and channels,
// oldest first.
func (s *Store) ListCustomerMessages(ctx context.Context, customerID string, f storage.MessageFilter) ([]tandem.Message, error) {
	return s.listMessages(ctx, "list customer messages", `conversation_id IN (SELECT id FROM conversations WHERE customer_id = $1)`, customerID, f)
}

func (s *Store) listMessages(ctx context.Context, op, where string, arg any, f storage.MessageFilter) ([]tandem.Message, error) {
	args := []any{arg}
	if !f.Since.IsZero() {
		args = append(args, dbTime(f.Since))
		where += fmt.Sprintf(` AND created_at >= $%d`, len(args))
	}
	var q string
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q = `SELECT ` + messageCols + ` FROM (SELECT ` + messageCols + `, seq FROM messages WHERE ` + where +
			fmt.Sprintf(` ORDER BY created_at DESC, seq DESC LIMIT $%d) m ORDER BY created_at, seq`, len(args))
	} else {
		q = `SELECT ` + messageCols + ` FROM messages WHERE ` + where + ` ORDER BY created_at, seq`
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	out, err := collect(rows, scanMessage)
	return out, translate(op, err)
}
