package inbox_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/inbox"
)

// TestEventsTicketChangedElsewhere: a ticket page's stream tells the page to refetch when
// its ticket is escalated (or changed by another desk), which is announced on the queue's
// topic only; the queue's news about another ticket is not passed on.
func TestEventsTicketChangedElsewhere(t *testing.T) {
	t.Parallel()
	f := setupWith(t)
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	s, status := openStream(t, srv, f.signIn(t, "bob@example.com"), "?ticket="+url.QueryEscape(f.ticket.ID))
	if status != http.StatusOK {
		t.Fatalf("open stream: %d", status)
	}
	// Another ticket's news: this ticket is unchanged, so the page is not told.
	if err := inbox.NewDesk(f.bus, func() time.Time { return now }).TicketChanged(t.Context(), "another-ticket"); err != nil {
		t.Fatal(err)
	}
	escalatedAt := now.Add(time.Minute)
	if _, err := f.store.EscalateTicket(t.Context(), f.ticket.ID, storage.TicketEscalation{At: escalatedAt, Reason: "waited too long", Raise: 1}); err != nil {
		t.Fatal(err)
	}
	if err := inbox.NewDesk(f.bus, func() time.Time { return escalatedAt }).TicketChanged(t.Context(), f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	// Both events travel on one topic, in order: the first passed on must be the second.
	name, got := s.nextEvent(t)
	if name != "refetch" || got.Topic != f.conv.ID || got.Kind != events.KindStatus || !got.At.Equal(escalatedAt) {
		t.Errorf("event %q = %+v, want a refetch of %s's status at %s (the escalation, not the other ticket's news)", name, got, f.conv.ID, escalatedAt)
	}
}
