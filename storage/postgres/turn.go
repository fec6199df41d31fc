package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// resolveTurnSQL reads an identity, its customer and the customer's open conversation with a
// bot (the columns of v are NULL when there is none) in one statement.
const resolveTurnSQL = `SELECT c.id, c.display_name, c.profile, c.created_at, c.updated_at,
	i.id, i.customer_id, i.channel, i.external_id, i.verified, i.created_at,
	v.id, v.bot_id, v.customer_id, v.channel, v.status, v.state, v.created_at, v.updated_at
	FROM identities i JOIN customers c ON c.id = i.customer_id
	LEFT JOIN LATERAL (SELECT ` + conversationCols + ` FROM conversations
		WHERE customer_id = c.id AND bot_id = $3 AND status <> 'closed'
		ORDER BY updated_at DESC, id DESC LIMIT 1) v ON true
	WHERE i.channel = $1 AND i.external_id = $2`

// ResolveTurn resolves the identity and finds the customer's open conversation with botID:
// one statement when the identity exists; a new identity gets a new customer, who has no
// conversation yet.
func (s *Store) ResolveTurn(ctx context.Context, botID string, channel tandem.Channel, externalID string) (*storage.TurnStart, error) {
	if channel == "" || externalID == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "channel and external id are required")
	}
	ts, err := s.readTurnStart(ctx, botID, channel, externalID)
	if err == nil {
		return ts, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, translate("resolve turn", err)
	}
	// A new identity, or one a concurrent call is creating (ResolveIdentity settles which).
	return storage.ResolveTurnInSteps(ctx, s, botID, channel, externalID)
}

func (s *Store) readTurnStart(ctx context.Context, botID string, channel tandem.Channel, externalID string) (*storage.TurnStart, error) {
	var (
		c tandem.Customer
		i tandem.Identity
		// The conversation's columns, NULL when it has none.
		vID, vBot, vCustomer, vChannel, vStatus *string
		vState                                  []byte
		vCreated, vUpdated                      *time.Time
	)
	err := s.pool.QueryRow(ctx, resolveTurnSQL, channel, externalID, botID).Scan(
		&c.ID, &c.DisplayName, &c.Profile, &c.CreatedAt, &c.UpdatedAt,
		&i.ID, &i.CustomerID, &i.Channel, &i.ExternalID, &i.Verified, &i.CreatedAt,
		&vID, &vBot, &vCustomer, &vChannel, &vStatus, &vState, &vCreated, &vUpdated)
	if err != nil {
		return nil, err
	}
	if c.Profile == nil {
		c.Profile = map[string]string{}
	}
	c.CreatedAt, c.UpdatedAt, i.CreatedAt = utc(c.CreatedAt), utc(c.UpdatedAt), utc(i.CreatedAt)
	ts := &storage.TurnStart{Customer: &c, Identity: &i}
	if vID != nil {
		ts.Conversation = &tandem.Conversation{ID: *vID, BotID: *vBot, CustomerID: *vCustomer,
			Channel: tandem.Channel(*vChannel), Status: tandem.ConversationStatus(*vStatus), State: vState,
			CreatedAt: utc(*vCreated), UpdatedAt: utc(*vUpdated)}
	}
	return ts, nil
}
