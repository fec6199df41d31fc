package sqlite

import (
	"context"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// ResolveTurn resolves the identity and finds the customer's open conversation with botID.
// Reads are in-process, so the two calls cost no more than one.
func (s *Store) ResolveTurn(ctx context.Context, botID string, channel tandem.Channel, externalID string) (*storage.TurnStart, error) {
	return storage.ResolveTurnInSteps(ctx, s, botID, channel, externalID)
}
