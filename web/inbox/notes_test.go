package inbox_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/events/eventstest"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/inbox"
)

// TestNotes: any agent adds an internal note; it shows in the timeline, marked, is
// announced to the conversation's live views as a note (no message), and never becomes a
// message of the conversation nor reaches the suggestions.
func TestNotes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		text   string
		claim  bool // Ann holds the ticket; Bob writes the note either way
		status int
		want   []string // on the page after the post (followed for a redirect)
	}{
		{"OK/NotHolder", "Customer called by phone, refund approved by finance", false, http.StatusSeeOther,
			[]string{`class="msg msg-note"`, "Internal note — bob</strong>", "Customer called by phone, refund approved by finance", "Note added."}},
		{"OK/WhileClaimed", "Escalate if they write again <script>", true, http.StatusSeeOther,
			[]string{"Internal note — bob</strong>", "Escalate if they write again &lt;script&gt;"}},
		{"ErrEmpty", "  ", false, http.StatusBadRequest, []string{"the note is empty"}},
		{"ErrTooLarge", strings.Repeat("n", handoff.MaxInternalNoteBytes+1), false, http.StatusRequestEntityTooLarge,
			[]string{"the limit is 4096"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t)
			ann, bob := f.signIn(t, "ann@example.com"), f.signIn(t, "bob@example.com")
			if tt.claim {
				if res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/claim", url.Values{"csrf": {f.csrf(t, ann)}}, ann)); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("claim: %d %s", res.StatusCode, body)
				}
			}
			sub := eventstest.Subscribe(t, f.bus, f.conv.ID)
			before := len(f.helper.asked)
			res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/note", url.Values{"csrf": {f.csrf(t, bob)}, "text": {tt.text}}, bob))
			if res.StatusCode != tt.status {
				t.Fatalf("note: %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			if res.StatusCode == http.StatusSeeOther {
				_, body = f.do(t, get(res.Header.Get("Location"), bob))
				if e := eventstest.Next(t, sub); e.Kind != events.KindNote || e.MessageID != "" {
					t.Errorf("event = %+v, want a note event naming no message", e)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			notes, err := f.store.ListCustomerNotes(ctx, f.conv.CustomerID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if ok := tt.status == http.StatusSeeOther; ok != (len(notes) == 1) {
				t.Errorf("notes stored = %d", len(notes))
			}
			if tt.status == http.StatusBadRequest && !strings.Contains(body, `id="note-text"`) {
				t.Errorf("a refused note's page has no note box")
			}
			// The note is not a message: the transcript every channel reads is unchanged.
			msgs, err := f.store.ListMessages(ctx, f.conv.ID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 3 {
				t.Errorf("messages = %d, want the 3 stored before", len(msgs))
			}
			for _, q := range f.helper.asked[before:] {
				if q != "demo: how long does shipping take, I want a human" {
					t.Errorf("the assistant was asked %q, not the customer's last message", q)
				}
			}
			ds, err := f.store.ListDeliveries(ctx, storage.DeliveryFilter{})
			if err != nil || len(ds) != 0 {
				t.Errorf("deliveries = %+v, %v; want none", ds, err)
			}
		})
	}
}

// TestNotesKeepDraft: a refused note comes back in the note box, not in the reply box.
func TestNotesKeepDraft(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ann := f.signIn(t, "ann@example.com")
	if res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/claim", url.Values{"csrf": {f.csrf(t, ann)}}, ann)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d %s", res.StatusCode, body)
	}
	// An unknown ticket is a 404 page.
	res, body := f.do(t, post("/inbox/tickets/nope/note", url.Values{"csrf": {f.csrf(t, ann)}, "text": {"x"}}, ann))
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("note on an unknown ticket: %d %s", res.StatusCode, body)
	}
	res, body = f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/note", url.Values{"csrf": {f.csrf(t, ann)}, "text": {"\n"}}, ann))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `placeholder="Reply to the customer on webchat…"></textarea>`) {
		t.Errorf("refused note: %d; the reply box must stay empty\n%s", res.StatusCode, body)
	}
}

// savedReplies is a bot's saved replies loaded from saved_replies.yaml, as the engine
// serves them.
type savedReplies struct{ def *bots.Definition }

func (s savedReplies) SavedReplies(string) []bots.SavedReply { return s.def.SavedReplies }

func (s savedReplies) RenderSavedReply(_, id string, cust *tandem.Customer, agent *tandem.Agent) (string, error) {
	r, ok := s.def.SavedReply(id)
	if !ok {
		return "", tandem.Errorf(tandem.ENOTFOUND, "no saved reply %q", id)
	}
	return r.Render(s.def, "", cust, agent)
}

func loadSavedReplies(t *testing.T) savedReplies {
	t.Helper()
	fsys := fstest.MapFS{
		"b/bot.yaml":     {Data: []byte("id: demo\nname: Acme\n")},
		"b/intents.yaml": {Data: []byte("intents:\n  - name: greet\n    examples: [hi]\n")},
		"b/saved_replies.yaml": {Data: []byte("saved_replies:\n" +
			"  - id: refund\n    title: Refund approved\n    tags: [billing]\n" +
			"    text: 'Hi {{.Customer.Name}}, {{.Agent.Name}} from {{.Bot.Name}} here: your refund{{with .Profile.order}} for {{.}}{{end}} is on its way.'\n" +
			"  - id: broken\n    title: Broken\n    text: '{{if .Profile.order}}{{index .Profile.order 99}}{{end}}'\n")},
	}
	def, err := bots.Load(fsys, "b")
	if err != nil {
		t.Fatal(err)
	}
	return savedReplies{def}
}

// TestSavedReplies: the ticket's holder picks a saved reply; ?saved=ID fills it in, for the
// customer and the agent, in the reply box. One that cannot be filled in is said, not sent.
func TestSavedReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		claim   bool
		query   string
		status  int
		want    []string
		wantNot []string
	}{
		{name: "OK/Picker", claim: true, status: http.StatusOK, want: []string{`id="saved-replies"`, ">Refund approved</a>",
			`href="/inbox/tickets/{id}?saved=refund#reply-text"`, `<span class="badge">billing</span>`, `id="saved-filter"`,
			`data-search="refund approved billing hi`}},
		{name: "OK/Fill", claim: true, query: "?saved=refund", status: http.StatusOK,
			want: []string{">Hi Ada, ann from Acme here: your refund for A123456 is on its way.</textarea>"}},
		{name: "ErrNotHolder", query: "?saved=refund", status: http.StatusOK, wantNot: []string{`id="saved-replies"`, "your refund for"}},
		{name: "ErrUnknown", claim: true, query: "?saved=nope", status: http.StatusOK,
			want: []string{`id="action-error"`, `no saved reply &#34;nope&#34;`, `placeholder="Reply to the customer on webchat…"></textarea>`}},
		{name: "ErrRender", claim: true, query: "?saved=broken", status: http.StatusOK,
			want: []string{`id="action-error"`, "saved reply &#34;Broken&#34; could not be filled in", `placeholder="Reply to the customer on webchat…"></textarea>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupWith(t, func(_ *inbox.Config, d *inbox.Deps) { d.SavedReplies = loadSavedReplies(t) })
			ctx := context.Background()
			name := "Ada"
			if _, err := f.store.UpdateCustomer(ctx, f.conv.CustomerID, storage.CustomerUpdate{DisplayName: &name,
				Profile: map[string]string{"order": "A123456"}}); err != nil {
				t.Fatal(err)
			}
			ann := f.signIn(t, "ann@example.com")
			if tt.claim {
				if res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/claim", url.Values{"csrf": {f.csrf(t, ann)}}, ann)); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("claim: %d %s", res.StatusCode, body)
				}
			}
			res, body := f.do(t, get("/inbox/tickets/"+f.ticket.ID+tt.query, ann))
			if res.StatusCode != tt.status {
				t.Fatalf("ticket page: %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "{id}", f.ticket.ID); !strings.Contains(body, w) {
					t.Errorf("page lacks %s", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("page has %s", w)
				}
			}
			// Filling a saved reply in sends nothing.
			msgs, err := f.store.ListMessages(ctx, f.conv.ID, storage.MessageFilter{})
			if err != nil || len(msgs) != 3 {
				t.Errorf("messages = %d, %v; want the 3 stored before", len(msgs), err)
			}
		})
	}
}
