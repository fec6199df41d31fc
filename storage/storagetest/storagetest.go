// Package storagetest is the conformance suite every storage.Store implementation must pass.
// An adapter's tests call Run with a constructor that returns a fresh, empty, migrated store:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) }, storagetest.Features{})
//	}
//
// Run calls newStore once per group of subtests; subtests run in parallel on that store, so
// the store must be safe for concurrent use (the contract requires it anyway). Behaviour that
// legitimately differs between backends is declared in Features, never skipped.
package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Features declares where a backend's behaviour legitimately differs.
type Features struct {
	// TextStopWords is true when full-text search ignores English stop words (PostgreSQL's
	// english configuration), so a query made only of stop words finds nothing.
	TextStopWords bool
}

// Run exercises every Store method and documented behaviour. features may be omitted.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, features ...Features) {
	var f Features
	if len(features) > 0 {
		f = features[0]
	}
	groups := []struct {
		name string
		fn   func(t *testing.T, s storage.Store, f Features)
	}{
		{"Customers", testCustomers},
		{"Identities", testIdentities},
		{"Conversations", testConversations},
		{"ResolveTurn", testResolveTurn},
		{"Lookups", testLookups},
		{"Messages", testMessages},
		{"Tickets", testTickets},
		{"Notes", testNotes},
		{"Agents", testAgents},
		{"Supervision", testSupervision},
		{"AgentCredentials", testAgentCredentials},
		{"LastAdmin", testLastAdmin},
		{"SignInAttempts", testSignInAttempts},
		{"Collections", testCollections},
		{"Documents", testDocuments},
		{"DocumentReviews", testDocumentReviews},
		{"SearchText", testSearchText},
		{"SearchVector", testSearchVector},
		{"Audit", testAudit},
		{"Outbox", testOutbox},
		{"HeldDeliveries", testHeldDeliveries},
		{"DeliveryStatus", testDeliveryStatus},
		{"Reports", testReports},
		{"Retention", testRetention},
		{"AnswerFeedback", testAnswerFeedback},
		{"Ping", testPing},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.fn(t, newStore(t), f)
		})
	}
}

// wantCode fails unless err carries the tandem error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tandem.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// when is a fixed instant with sub-microsecond digits, in a non-UTC zone: stores must
// return it in UTC, truncated to the microsecond.
var when = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("X", 3600))

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	want = want.UTC().Truncate(time.Microsecond)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want %v (UTC)", what, got, want)
	}
}

func newConversation(t *testing.T, s storage.Store, bot, customerID string, ch tandem.Channel) *tandem.Conversation {
	t.Helper()
	c := &tandem.Conversation{BotID: bot, CustomerID: customerID, Channel: ch, Status: tandem.StatusOpen}
	must(t, s.CreateConversation(context.Background(), c))
	return c
}

func resolve(t *testing.T, s storage.Store, ch tandem.Channel, ext string) (*tandem.Customer, *tandem.Identity) {
	t.Helper()
	c, i, err := s.ResolveIdentity(context.Background(), ch, ext)
	must(t, err)
	return c, i
}
