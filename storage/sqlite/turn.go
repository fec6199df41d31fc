package sqlite

import (
	"context"
	"fmt"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// ResolveTurn resolves the identity and finds the customer's open conversation with botID.
// Reads are in-process, so the two calls cost no more than one.
func (s *Store) ResolveTurn(ctx context.Context, botID string, channel tandem.Channel, externalID string) (*storage.TurnStart, error) {
	cust, ident, err := s.ResolveIdentity(ctx, channel, externalID)
	if err != nil {
		return nil, err
	}
	conv, err := s.FindOpenConversation(ctx, botID, cust.ID)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		conv = nil
	case err != nil:
		return nil, fmt.Errorf("resolve turn: %w", err)
	}
	return &storage.TurnStart{Customer: cust, Identity: ident, Conversation: conv}, nil
}
