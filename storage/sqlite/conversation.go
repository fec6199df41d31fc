package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const conversationCols = `id, bot_id, customer_id, channel, status, state, created_at, updated_at`

func scanConversation(row interface{ Scan(...any) error }) (*tandem.Conversation, error) {
	var c tandem.Conversation
	var created, updated int64
	if err := row.Scan(&c.ID, &c.BotID, &c.CustomerID, &c.Channel, &c.Status, &c.State, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
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
	committed := *c
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		st, err := s.wstmt(ctx, tx, insertConversationSQL)
		if err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, c.ID, c.BotID, c.CustomerID, c.Channel, c.Status, c.State, c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro())
		return err
	}, func() { s.cache.wroteConversation(&committed, false) })
	return translate("create conversation", err)
}

// FindConversationByID returns the conversation or ENOTFOUND.
func (s *Store) FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error) {
	st, err := s.rstmt(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = ?`)
	if err != nil {
		return nil, translate("find conversation", err)
	}
	c, err := scanConversation(st.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find conversation", notFound("conversation", id))
	}
	if err != nil {
		return nil, translate("find conversation", err)
	}
	return c, nil
}

// FindOpenConversation returns the customer's newest not-closed conversation with the bot.
func (s *Store) FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error) {
	if c, ok := s.cache.openConversation(botID, customerID); ok {
		return c, nil
	}
	gen := s.cache.generation()
	st, err := s.rstmt(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE customer_id = ? AND bot_id = ? AND status <> 'closed' ORDER BY updated_at DESC, id DESC LIMIT 1`)
	if err != nil {
		return nil, translate("find open conversation", err)
	}
	c, err := scanConversation(st.QueryRowContext(ctx, customerID, botID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find open conversation", tandem.Errorf(tandem.ENOTFOUND, "no open conversation"))
	}
	if err != nil {
		return nil, translate("find open conversation", err)
	}
	s.cache.putOpen(gen, c)
	return c, nil
}

// UpdateConversation sets the non-nil fields and bumps UpdatedAt.
func (s *Store) UpdateConversation(ctx context.Context, id string, upd storage.ConversationUpdate) (*tandem.Conversation, error) {
	var c *tandem.Conversation
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.updateConversation(ctx, tx, id, upd, false, nil)
		return err
	}, func() { s.cache.wroteConversation(c, upd.CustomerID != nil) })
	if err != nil {
		return nil, translate("update conversation", err)
	}
	return c, nil
}

const (
	insertConversationSQL = `INSERT INTO conversations (` + conversationCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	setAnnotationsSQL     = `UPDATE messages SET annotations = ? WHERE id = ?`
)

// One statement per combination of the assigned indexed columns keeps each prepared.
// SQLite rewrites an index entry whenever a column the index holds, or its predicate
// reads, is assigned, even to the same value: customer_id (conversations_customer,
// conversations_one_open) and status (conversations_one_open's predicate) are only
// assigned when the update changes them, so a normal turn writes no index page. The
// last two parameters make the update a compare-and-swap of the state
// (TurnRecord.CheckState).
//
// updateConversationSQL[status][customer] sets updated_at, channel and state, plus status
// and customer_id when asked; its parameters are updated_at, [status], channel, set state,
// state, [customer_id], id, check, prev.
var updateConversationSQL = func() (q [2][2]string) {
	for status := range 2 {
		for customer := range 2 {
			set := `updated_at = ?`
			if status == 1 {
				set += `, status = ?`
			}
			set += `, channel = coalesce(?, channel), state = CASE WHEN ? THEN ? ELSE state END`
			if customer == 1 {
				set += `, customer_id = ?`
			}
			q[status][customer] = `UPDATE conversations SET ` + set + ` WHERE id = ? AND (NOT ? OR state IS ?) RETURNING ` + conversationCols
		}
	}
	return q
}()

// updateConversation applies upd and returns the updated row. With check, only if the
// conversation's state is still prev (ECONFLICT otherwise).
func (s *Store) updateConversation(ctx context.Context, tx *sql.Tx, id string, upd storage.ConversationUpdate, check bool, prev []byte) (*tandem.Conversation, error) {
	var channel any
	if upd.Channel != nil {
		channel = string(*upd.Channel)
	}
	var withStatus, withCustomer int
	args := []any{s.now().UnixMicro()}
	if upd.Status != nil {
		withStatus, args = 1, append(args, string(*upd.Status))
	}
	args = append(args, channel, upd.State != nil, upd.State)
	if upd.CustomerID != nil {
		withCustomer, args = 1, append(args, *upd.CustomerID)
	}
	st, err := s.wstmt(ctx, tx, updateConversationSQL[withStatus][withCustomer])
	if err != nil {
		return nil, err
	}
	c, err := scanConversation(st.QueryRowContext(ctx, append(args, id, check, blobOrNull(prev))...))
	if !errors.Is(err, sql.ErrNoRows) {
		return c, err
	}
	if check {
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, id).Scan(&one); {
		case err == nil:
			return nil, tandem.Errorf(tandem.ECONFLICT, "conversation %q changed since the turn began", id)
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	return nil, notFound("conversation", id)
}

// blobOrNull binds nil as NULL and anything else as a blob.
func blobOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// ListConversations returns matching conversations, most recently updated first.
func (s *Store) ListConversations(ctx context.Context, f storage.ConversationFilter) ([]tandem.Conversation, error) {
	var where []string
	var args []any
	if f.BotID != "" {
		where, args = append(where, "bot_id = ?"), append(args, f.BotID)
	}
	if f.CustomerID != "" {
		where, args = append(where, "customer_id = ?"), append(args, f.CustomerID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if !f.UpdatedBefore.IsZero() {
		where, args = append(where, "updated_at < ?"), append(args, dbTime(f.UpdatedBefore).UnixMicro())
	}
	q := `SELECT ` + conversationCols + ` FROM conversations`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("list conversations", err)
	}
	defer rows.Close()
	out := []tandem.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, translate("list conversations", err)
		}
		out = append(out, *c)
	}
	return out, translate("list conversations", rows.Err())
}

const (
	messageCols     = `id, conversation_id, role, channel, text, provider_id, author_id, annotations, decision, citations, created_at`
	messageColCount = 11
	// maxMessagesPerInsert bounds the rows of one INSERT; a turn stores 2–4 messages.
	maxMessagesPerInsert = 4
)

// insertMessagesSQL[n] inserts n messages.
var insertMessagesSQL = func() (q [maxMessagesPerInsert + 1]string) {
	row := "(" + strings.Repeat("?, ", messageColCount-1) + "?)"
	for n := 1; n <= maxMessagesPerInsert; n++ {
		q[n] = `INSERT INTO messages (` + messageCols + `) VALUES ` + strings.Repeat(row+", ", n-1) + row
	}
	return q
}()

func scanMessage(row interface{ Scan(...any) error }) (*tandem.Message, error) {
	var m tandem.Message
	var ann, dec, cit sql.NullString
	var created int64
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Role, &m.Channel, &m.Text, &m.ProviderID, &m.AuthorID, &ann, &dec, &cit, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	if ann.Valid {
		m.Annotations = new(tandem.Annotations)
		if err := json.Unmarshal([]byte(ann.String), m.Annotations); err != nil {
			return nil, fmt.Errorf("decode annotations: %w", err)
		}
	}
	if dec.Valid {
		m.Decision = new(tandem.Decision)
		if err := json.Unmarshal([]byte(dec.String), m.Decision); err != nil {
			return nil, fmt.Errorf("decode decision: %w", err)
		}
	}
	if cit.Valid {
		if err := json.Unmarshal([]byte(cit.String), &m.Citations); err != nil {
			return nil, fmt.Errorf("decode citations: %w", err)
		}
	}
	return &m, nil
}

// jsonOrNull encodes v, or returns NULL for a nil pointer or empty slice.
func jsonOrNull(v any, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// CreateMessage stores m, assigning ID and CreatedAt when empty; a (Channel, ProviderID)
// stored before returns EDUPLICATE.
func (s *Store) CreateMessage(ctx context.Context, m *tandem.Message) error {
	row, err := s.messageRow(m)
	if err != nil {
		return translate("create message", err)
	}
	err = s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertMessages(ctx, tx, row) })
	return translate("create message", err)
}

// messageRow assigns m's id and time when empty and encodes its columns. Callers do it
// before queueing their write, so the single writer only binds and inserts.
func (s *Store) messageRow(m *tandem.Message) ([]any, error) {
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
	ann, err := jsonOrNull(m.Annotations, m.Annotations == nil)
	if err != nil {
		return nil, err
	}
	dec, err := jsonOrNull(m.Decision, m.Decision == nil)
	if err != nil {
		return nil, err
	}
	cit, err := jsonOrNull(m.Citations, len(m.Citations) == 0)
	if err != nil {
		return nil, err
	}
	return []any{m.ID, m.ConversationID, m.Role, m.Channel, m.Text, m.ProviderID, m.AuthorID, ann, dec, cit, m.CreatedAt.UnixMicro()}, nil
}

// FindMessageByProviderID returns the message with the provider's id on channel.
func (s *Store) FindMessageByProviderID(ctx context.Context, channel tandem.Channel, providerID string) (*tandem.Message, error) {
	if providerID == "" {
		return nil, translate("find message", notFound("message", providerID))
	}
	st, err := s.rstmt(ctx, `SELECT `+messageCols+` FROM messages WHERE channel = ? AND provider_id = ? AND provider_id <> ''`)
	if err != nil {
		return nil, translate("find message", err)
	}
	m, err := scanMessage(st.QueryRowContext(ctx, string(channel), providerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find message", notFound("message", providerID))
	}
	return m, translate("find message", err)
}

// SetMessageAnnotations records NLU results on a stored message.
func (s *Store) SetMessageAnnotations(ctx context.Context, id string, a *tandem.Annotations) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error { return s.setAnnotations(ctx, tx, id, a) })
	return translate("set message annotations", err)
}

func (s *Store) setAnnotations(ctx context.Context, tx *sql.Tx, id string, a *tandem.Annotations) error {
	ann, err := jsonOrNull(a, a == nil)
	if err != nil {
		return err
	}
	st, err := s.wstmt(ctx, tx, setAnnotationsSQL)
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, ann, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("message", id)
	}
	return nil
}

// RecordTurn stores the turn's annotations, replies, their deliveries, conversation update and
// audit entries in one transaction.
func (s *Store) RecordTurn(ctx context.Context, t storage.TurnRecord) error {
	// Rows are encoded here, outside the single writer, and inserted by one statement.
	msgs := t.Replies
	if t.Inbound != nil {
		msgs = append([]*tandem.Message{t.Inbound}, t.Replies...)
	}
	rows := make([]any, 0, len(msgs)*messageColCount)
	for _, m := range msgs {
		m.ConversationID = t.ConversationID
		if m.Role == "" && m != t.Inbound {
			m.Role = tandem.RoleBot
		}
		row, err := s.messageRow(m)
		if err != nil {
			return translate("record turn", err)
		}
		rows = append(rows, row...)
	}
	var deliveries [][]any
	if len(t.Deliveries) > 0 {
		var err error
		if deliveries, err = s.deliveryRows(t.Deliveries); err != nil {
			return translate("record turn", err)
		}
	}
	var c *tandem.Conversation
	err := s.writeTxThen(ctx, func(tx *sql.Tx) error {
		if err := s.insertMessages(ctx, tx, rows); err != nil {
			return err
		}
		if t.Annotations != nil && t.InboundID != "" {
			if err := s.setAnnotations(ctx, tx, t.InboundID, t.Annotations); err != nil {
				return err
			}
		}
		var err error
		if c, err = s.updateConversation(ctx, tx, t.ConversationID, t.Update, t.CheckState, t.PrevState); err != nil {
			return err
		}
		if err := s.insertDeliveries(ctx, tx, deliveries); err != nil {
			return err
		}
		for _, e := range t.Audit {
			if err := s.appendAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		if t.CSAT != nil {
			return s.insertCSAT(ctx, tx, t.CSAT)
		}
		return nil
	}, func() { s.cache.wroteConversation(c, t.Update.CustomerID != nil) })
	return translate("record turn", err)
}

// insertMessages inserts the rows made by messageRow, concatenated, in order: up to
// maxMessagesPerInsert per statement (one statement per turn instead of one per message).
func (s *Store) insertMessages(ctx context.Context, tx *sql.Tx, rows []any) error {
	for len(rows) > 0 {
		n := min(len(rows)/messageColCount, maxMessagesPerInsert)
		st, err := s.wstmt(ctx, tx, insertMessagesSQL[n])
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, rows[:n*messageColCount]...); err != nil {
			return err
		}
		rows = rows[n*messageColCount:]
	}
	return nil
}

// ListMessages returns a conversation's messages oldest first.
func (s *Store) ListMessages(ctx context.Context, conversationID string, f storage.MessageFilter) ([]tandem.Message, error) {
	return s.listMessages(ctx, "list messages", `conversation_id = ?`, conversationID, f)
}

// ListCustomerMessages returns the customer's messages across conversations and channels,
// oldest first.
func (s *Store) ListCustomerMessages(ctx context.Context, customerID string, f storage.MessageFilter) ([]tandem.Message, error) {
	return s.listMessages(ctx, "list customer messages", `conversation_id IN (SELECT id FROM conversations WHERE customer_id = ?)`, customerID, f)
}

func (s *Store) listMessages(ctx context.Context, op, where string, arg any, f storage.MessageFilter) ([]tandem.Message, error) {
	args := []any{arg}
	if !f.Since.IsZero() {
		where += ` AND created_at >= ?`
		args = append(args, dbTime(f.Since).UnixMicro())
	}
	q := `SELECT ` + messageCols + ` FROM messages WHERE ` + where
	if f.Limit > 0 {
		q = `SELECT * FROM (SELECT ` + messageCols + `, seq FROM messages WHERE ` + where + ` ORDER BY created_at DESC, seq DESC LIMIT ?) ORDER BY created_at, seq`
		args = append(args, f.Limit)
	} else {
		q += ` ORDER BY created_at, seq`
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	out := []tandem.Message{}
	for rows.Next() {
		var m *tandem.Message
		if f.Limit > 0 {
			var seq int64
			m, err = scanMessage(scanWithTail{rows, &seq})
		} else {
			m, err = scanMessage(rows)
		}
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, *m)
	}
	return out, translate(op, rows.Err())
}

// scanWithTail scans extra trailing columns into tail.
type scanWithTail struct {
	row  interface{ Scan(...any) error }
	tail any
}

func (s scanWithTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail)...) }
