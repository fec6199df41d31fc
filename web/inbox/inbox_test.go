package inbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/events/memory"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
	"github.com/tandemhq/tandem/web/inbox"
)

var now = time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)

type fixture struct {
	store  storage.Store
	h      *inbox.Handler
	conv   *tandem.Conversation
	ticket *tandem.Ticket
	bus    *memory.Bus // what the inbox publishes to
	desk   *watcher    // another desk the inbox tells about ticket changes
	helper *assistant  // proposes replies
}

// assistant proposes one reply per call, or fails when told to; it records what it was asked.
type assistant struct {
	mu    sync.Mutex
	fail  bool
	asked []string
}

func (a *assistant) SuggestReplies(_ context.Context, botID string, _ *tandem.Customer, msg *tandem.Message) ([]bots.Suggestion, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, botID+": "+msg.Text)
	if a.fail {
		return nil, errors.New("knowledge base down")
	}
	return []bots.Suggestion{{Text: "Standard shipping takes 3 to 5 <b>business</b> days.", Source: "knowledge",
		Citations: []tandem.Citation{{DocID: "demo/faq/shipping", Title: "Shipping policy"}}}}, nil
}

// watcher is another desk as the tests record it.
type watcher struct {
	mu      sync.Mutex
	tickets []string
}

func (w *watcher) TicketChanged(_ context.Context, ticketID string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tickets = append(w.tickets, ticketID)
	return nil
}

func (w *watcher) told() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.tickets)
}

// setup returns the inbox on a fresh store holding one handed-off web chat conversation
// (an angry shipping question, the bot's answer, the request for a human) and one
// published knowledge article about shipping.
func setup(t *testing.T) *fixture { return setupWith(t) }

// setupWith is setup with the inbox's configuration and collaborators changed by opts.
func setupWith(t *testing.T, opts ...func(*inbox.Config, *inbox.Deps)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kb := retrieval.New(st, nil, retrieval.WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := kb.Ingest(ctx, "demo", []retrieval.Source{{ID: "faq/shipping", Title: "How long does shipping take?",
		Body: "Standard shipping takes 3 to 5 business days.", Kind: ingest.KindFAQ, URL: "https://example.com/shipping"}}, nil); err != nil {
		t.Fatal(err)
	}
	cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelWebChat, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusHandoff}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	msgs := []*tandem.Message{
		{Role: tandem.RoleCustomer, Text: "Where is my parcel? Shipping is terribly slow",
			Annotations: &tandem.Annotations{Language: "en", Intent: tandem.IntentScore{Name: "shipping_time", Confidence: 0.82},
				Sentiment: tandem.Sentiment{Label: tandem.SentimentNegative, Score: -0.7}}},
		{Role: tandem.RoleBot, Text: "Standard shipping takes 3 to 5 business days.",
			Decision:  &tandem.Decision{Kind: tandem.DecisionKnowledge, Reason: "answered from faq/shipping"},
			Citations: []tandem.Citation{{DocID: "demo/faq/shipping", Title: "How long does shipping take?"}}},
		{Role: tandem.RoleCustomer, Text: "how long does shipping take, I want a human",
			Annotations: &tandem.Annotations{Intent: tandem.IntentScore{Name: "human_handoff", Confidence: 0.91}}},
	}
	for i, m := range msgs {
		m.ConversationID, m.Channel, m.CreatedAt = conv.ID, tandem.ChannelWebChat, now.Add(time.Duration(i)*time.Second)
		if err := st.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "customer asked for a human"})
	if err != nil {
		t.Fatal(err)
	}
	desk := &watcher{}
	helper := &assistant{}
	bus := memory.New(memory.Config{})
	t.Cleanup(func() { _ = bus.Close() })
	cfg := inbox.Config{Secret: []byte("test-secret-0123456789"), MaxFormBytes: 16 << 10, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now.Add(5 * time.Minute) }}
	deps := inbox.Deps{Store: st, KB: kb, Collections: func(string) []string { return []string{"demo"} },
		Events: bus, Desks: []inbox.TicketWatcher{desk}, Surveys: func(string) string { return surveyQuestion }, Assistant: helper}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	h := inbox.New(cfg, deps)
	t.Cleanup(h.Close)
	return &fixture{store: st, h: h, conv: conv, ticket: tk, bus: bus, desk: desk, helper: helper}
}

func (f *fixture) do(t *testing.T, r *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func post(target string, v url.Values, cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

func get(target string, cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

// signIn signs email in and returns the session cookie.
func (f *fixture) signIn(t *testing.T, email string) *http.Cookie {
	t.Helper()
	res, body := f.do(t, post("/inbox/signin", url.Values{"email": {email}, "next": {"/inbox/"}}, nil))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", res.StatusCode, body)
	}
	for _, c := range res.Cookies() {
		if c.Name == inbox.CookieName {
			return c
		}
	}
	t.Fatal("sign in set no cookie")
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token from the agent's ticket page.
func (f *fixture) csrf(t *testing.T, cookie *http.Cookie) string {
	t.Helper()
	_, body := f.do(t, get("/inbox/tickets/"+f.ticket.ID, cookie))
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token on the ticket page:\n%s", body)
	}
	return m[1]
}

func TestPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     func(f *fixture) string
		signedIn bool
		cookie   func(c *http.Cookie) *http.Cookie
		status   int
		want     []string
	}{
		{"OKSignInFirst", func(*fixture) string { return "/inbox/" }, false, nil, http.StatusOK, []string{`id="email"`}},
		{"OKQueue", func(*fixture) string { return "/inbox/" }, true, nil, http.StatusOK,
			[]string{"webchat: web-1", "customer asked for a human", "badge-negative", "support", "waiting", `data-events="/inbox/events"`}},
		{"OKTicket", func(f *fixture) string { return "/inbox/tickets/" + f.ticket.ID }, true, nil, http.StatusOK,
			[]string{"Where is my parcel?", "<code>shipping_time</code> 82%", "negative -0.70", "knowledge: answered from faq/shipping",
				"Sources: How long does shipping take?", `href="https://example.com/shipping"`, `id="claim"`, "webchat: web-1", `data-events="/inbox/events?ticket=`}},
		{"OKTamperedCookieAsksToSignIn", func(*fixture) string { return "/inbox/" }, true,
			func(c *http.Cookie) *http.Cookie { c.Value = strings.Replace(c.Value, ".", "x.", 1); return c }, http.StatusOK, []string{`id="email"`}},
		{"ErrUnknownTicket", func(*fixture) string { return "/inbox/tickets/nope" }, true, nil, http.StatusNotFound, []string{`no ticket &#34;nope&#34;`}},
		{"ErrUnknownPage", func(*fixture) string { return "/inbox/nope" }, true, nil, http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			var c *http.Cookie
			if tt.signedIn {
				c = f.signIn(t, "ann@example.com")
			}
			if tt.cookie != nil {
				c = tt.cookie(c)
			}
			res, body := f.do(t, get(tt.path(f), c))
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	claimAs := func(email string) func(t *testing.T, f *fixture) {
		return func(t *testing.T, f *fixture) {
			a, err := handoff.SignIn(context.Background(), f.store, email)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := handoff.Claim(context.Background(), f.store, f.ticket.ID, a.ID, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		before  func(t *testing.T, f *fixture)
		action  string
		form    url.Values
		csrf    string // "" uses the agent's token; "-" sends none
		header  map[string]string
		noAuth  bool
		status  int
		want    string // in the body, or the redirect's notice
		ticket  tandem.TicketStatus
		message string // the agent message stored, if any
	}{
		{name: "OKClaim", action: "claim", status: http.StatusSeeOther, want: "done=claimed", ticket: tandem.TicketClaimed},
		{name: "ErrClaimedByOther", before: claimAs("bob@example.com"), action: "claim", status: http.StatusConflict,
			want: "another agent claimed this ticket first", ticket: tandem.TicketClaimed},
		{name: "OKReply", before: claimAs("ann@example.com"), action: "reply", form: url.Values{"text": {"Hi, Ann here."}},
			status: http.StatusSeeOther, want: "done=replied", ticket: tandem.TicketClaimed, message: "Hi, Ann here."},
		{name: "ErrReplyUnclaimed", action: "reply", form: url.Values{"text": {"Hi"}}, status: http.StatusConflict,
			want: "claim the ticket first", ticket: tandem.TicketQueued},
		{name: "ErrReplyEmpty", before: claimAs("ann@example.com"), action: "reply", form: url.Values{"text": {"  "}},
			status: http.StatusBadRequest, want: "the reply is empty", ticket: tandem.TicketClaimed},
		{name: "ErrReplyTooLong", before: claimAs("ann@example.com"), action: "reply",
			form:   url.Values{"text": {strings.Repeat("a", handoff.MaxReplyBytes+1)}},
			status: http.StatusRequestEntityTooLarge, want: "the limit is 4096", ticket: tandem.TicketClaimed},
		{name: "ErrFormTooLarge", before: claimAs("ann@example.com"), action: "reply",
			form:   url.Values{"text": {strings.Repeat("a", 20<<10)}},
			status: http.StatusRequestEntityTooLarge, want: "larger than 16384 bytes", ticket: tandem.TicketClaimed},
		{name: "OKClose", before: claimAs("ann@example.com"), action: "close", status: http.StatusSeeOther, want: "done=closed", ticket: tandem.TicketClosed},
		{name: "OKGiveBack", before: claimAs("ann@example.com"), action: "return", status: http.StatusSeeOther, want: "done=returned", ticket: tandem.TicketReturned},
		{name: "OKTransferToQueue", before: claimAs("ann@example.com"), action: "transfer", form: url.Values{"queue": {"billing"}, "note": {"billing question"}},
			status: http.StatusSeeOther, want: "done=transferred", ticket: tandem.TicketQueued},
		{name: "ErrTransferNotHolder", before: claimAs("bob@example.com"), action: "transfer", form: url.Values{"queue": {"billing"}},
			status: http.StatusConflict, want: "only the agent holding this ticket, or a supervisor, can transfer it", ticket: tandem.TicketClaimed},
		{name: "ErrTransferNoTarget", before: claimAs("ann@example.com"), action: "transfer", status: http.StatusBadRequest,
			want: "choose either a queue or an agent", ticket: tandem.TicketClaimed},
		{name: "ErrUnknownAction", action: "snooze", status: http.StatusNotFound, want: "no such action", ticket: tandem.TicketQueued},
		{name: "ErrMissingCSRF", action: "claim", csrf: "-", status: http.StatusForbidden, want: "security token", ticket: tandem.TicketQueued},
		{name: "ErrInvalidCSRF", action: "claim", csrf: "forged", status: http.StatusForbidden, want: "security token", ticket: tandem.TicketQueued},
		{name: "ErrCrossSite", action: "claim", header: map[string]string{"Sec-Fetch-Site": "cross-site"},
			status: http.StatusForbidden, want: "cross-origin", ticket: tandem.TicketQueued},
		{name: "ErrCrossOrigin", action: "claim", header: map[string]string{"Origin": "https://evil.example"},
			status: http.StatusForbidden, want: "cross-origin", ticket: tandem.TicketQueued},
		{name: "ErrSignedOut", action: "claim", noAuth: true, status: http.StatusForbidden, want: "sign in again", ticket: tandem.TicketQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t)
			if tt.before != nil {
				tt.before(t, f)
			}
			c := f.signIn(t, "ann@example.com")
			form := url.Values{}
			for k, v := range tt.form {
				form[k] = v
			}
			switch tt.csrf {
			case "":
				form.Set("csrf", f.csrf(t, c))
			case "-":
			default:
				form.Set("csrf", tt.csrf)
			}
			if tt.noAuth {
				c = nil
			}
			r := post("/inbox/tickets/"+f.ticket.ID+"/"+tt.action, form, c)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			res, body := f.do(t, r)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			if got := body + res.Header.Get("Location"); !strings.Contains(got, tt.want) {
				t.Errorf("response lacks %q:\n%s", tt.want, got)
			}
			tk, err := f.store.FindTicketByID(ctx, f.ticket.ID)
			if err != nil || tk.Status != tt.ticket {
				t.Errorf("ticket = %+v, %v; want status %s", tk, err, tt.ticket)
			}
			msgs, err := f.store.ListMessages(ctx, f.conv.ID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var agentText string
			for _, m := range msgs {
				if m.Role == tandem.RoleAgent {
					agentText = m.Text
				}
			}
			if agentText != tt.message {
				t.Errorf("agent message = %q, want %q", agentText, tt.message)
			}
		})
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		email    string
		next     string
		status   int
		location string
	}{
		{"OK", "ann@example.com", "/inbox/tickets/x", http.StatusSeeOther, "/inbox/tickets/x"},
		{"OKForeignNextIgnored", "ann@example.com", "https://evil.example/", http.StatusSeeOther, "/inbox/"},
		{"OKSchemeRelativeNextIgnored", "ann@example.com", "//evil.example/inbox/", http.StatusSeeOther, "/inbox/"},
		{"ErrBadEmail", "not an email", "/inbox/", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			res, body := f.do(t, post("/inbox/signin", url.Values{"email": {tt.email}, "next": {tt.next}}, nil))
			if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
				t.Fatalf("status %d to %q, want %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), tt.status, tt.location, body)
			}
		})
	}
}

// TestDeliveryStatus checks that the ticket page shows how each reply on a pushed channel
// is getting to the customer, with the reason when it never will.
func TestDeliveryStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	reply := func(text string) *tandem.Message {
		m := &tandem.Message{ConversationID: f.conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: text, CreatedAt: now.Add(time.Minute)}
		if err := f.store.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := f.store.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: "demo", Channel: tandem.ChannelSMS, To: "+15550100",
			Reply: tandem.Reply{Text: text}}}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	reply("Your parcel left the warehouse.")
	lost := reply("Tracking: https://example.com/t/1")
	failed, why := tandem.DeliveryFailed, "twilio: 21614 To number is not a mobile number"
	if _, err := f.store.UpdateDelivery(ctx, lost.ID, storage.DeliveryUpdate{Status: &failed, LastError: &why}); err != nil {
		t.Fatal(err)
	}
	// Twilio's status callbacks: one reached the phone, one the carrier dropped.
	arrived, dropped := reply("It arrives Friday."), reply("Reply STOP to stop.")
	delivered, sent, sid, at := tandem.DeliveryDelivered, tandem.DeliverySent, "SM1", now.Add(2*time.Minute)
	carrier := "the number is a landline or its carrier is unreachable (error 30006)"
	for _, u := range []struct {
		id  string
		upd storage.DeliveryUpdate
	}{
		{arrived.ID, storage.DeliveryUpdate{Status: &sent, ProviderID: &sid}},
		{arrived.ID, storage.DeliveryUpdate{Status: &delivered, DeliveredAt: &at}},
		{dropped.ID, storage.DeliveryUpdate{Status: &failed, LastError: &carrier}},
	} {
		if _, err := f.store.UpdateDelivery(ctx, u.id, u.upd); err != nil {
			t.Fatal(err)
		}
	}
	_, body := f.do(t, get("/inbox/tickets/"+f.ticket.ID, f.signIn(t, "ann@example.com")))
	for _, want := range []string{`class="delivery delivery-pending">pending<`, `class="delivery delivery-failed">failed: twilio: 21614 To number is not a mobile number<`,
		`class="delivery delivery-delivered">delivered <time>`, `class="delivery delivery-failed">failed: ` + carrier + `<`} {
		if !strings.Contains(body, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
	if n := strings.Count(body, `class="delivery `); n != 4 {
		t.Errorf("%d delivery badges, want 4 (web chat messages have none)", n)
	}
}

// TestActionsTellOtherDesks checks that claims, closes and give-backs made in the inbox are
// passed to the other desks (the Slack desk redraws its card), and replies are not.
func TestActionsTellOtherDesks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cookie := f.signIn(t, "ann@example.com")
	token := f.csrf(t, cookie)
	for _, a := range []string{"claim", "reply", "close"} {
		if res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/"+a, url.Values{"csrf": {token}, "text": {"On it."}}, cookie)); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: status %d\n%s", a, res.StatusCode, body)
		}
	}
	if got := f.desk.told(); len(got) != 2 || got[0] != f.ticket.ID || got[1] != f.ticket.ID {
		t.Errorf("other desks told %q, want the ticket twice (claim, close)", got)
	}
}
