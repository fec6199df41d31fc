package bots_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/twilio"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/storage"
)

// whatsAppAPI is Twilio's Messages API for one WhatsApp sender: while the customer's window
// is closed it refuses free-form messages with error 63016 and accepts templates.
type whatsAppAPI struct {
	mu   sync.Mutex
	open bool
	// sent are the accepted messages: a Body, or "template <ContentSid> <ContentVariables>".
	sent    []string
	refused []string // bodies refused for the window
}

func (a *whatsAppAPI) setOpen(open bool) { a.mu.Lock(); a.open = open; a.mu.Unlock() }

func (a *whatsAppAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if sid := form.Get("ContentSid"); sid != "" {
		a.sent = append(a.sent, "template "+sid+" "+form.Get("ContentVariables"))
	} else if !a.open {
		a.refused = append(a.refused, form.Get("Body"))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"code":63016,"message":"Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Template.","more_info":"https://www.twilio.com/docs/errors/63016","status":400}`)
		return
	} else {
		a.sent = append(a.sent, form.Get("Body"))
	}
	w.WriteHeader(http.StatusCreated)
	b, _ := json.Marshal(map[string]any{"sid": fmt.Sprintf("SM%032d", len(a.sent)), "status": "queued",
		"to": form.Get("To"), "from": form.Get("From"), "body": form.Get("Body")})
	_, _ = w.Write(b)
}

func (a *whatsAppAPI) snapshot() (sent, refused []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.sent), slices.Clone(a.refused)
}

// demoWithWhatsApp is the demo bot with channels (a channels: section) in its bot.yaml.
func demoWithWhatsApp(t *testing.T, channels string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(demo.FS, demo.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(demo.FS, p)
		if p == demo.Root+"/bot.yaml" && channels != "" {
			data = bytes.Replace(data, []byte("channels:\n"), []byte(channels), 1)
		}
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const reopenYAML = `channels:
  whatsapp:
    reopen_template: reopen
    templates:
      reopen:
        content_sid: ` + reopenSID + `
        variables: ['{{or .Customer.Name "there"}}']
        text: 'Hi {{or .Customer.Name "there"}}, we have a reply to your question. Reply to this message to see it.'
`

// TestReopenWindow runs an agent's late WhatsApp replies end to end through the real
// twilio-go client: refused for the closed window, they are held and the bot's reopen
// template is sent once; when the customer answers, the held replies are delivered in
// order, once. Without a reopen template they fail at once instead of being retried.
func TestReopenWindow(t *testing.T) {
	t.Parallel()
	for _, b := range teststore.All {
		for _, withReopen := range []bool{true, false} {
			name := b.Name + "/Reopen"
			if !withReopen {
				name = b.Name + "/ErrNoReopenTemplate"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testReopenWindow(t, b.Open(t), withReopen)
			})
		}
	}
}

// windowFixture is the demo bot on WhatsApp, its replies delivered through the real
// twilio-go client to whatsAppAPI.
type windowFixture struct {
	st  storage.Store
	reg *bots.Registry
	e   *bots.Engine
	api *whatsAppAPI
	d   *jobs.Deliverer
}

const windowCustomer = "+15550123"

func newWindowFixture(t *testing.T, st storage.Store, channels string) *windowFixture {
	t.Helper()
	ctx := context.Background()
	reg := bots.NewRegistry(bots.RegistryConfig{NLU: sharedNLU, Logger: slog.New(slog.DiscardHandler)})
	if _, err := reg.LoadFS(ctx, demoWithWhatsApp(t, channels), demo.Root); err != nil {
		t.Fatal(err)
	}
	e := bots.New(st, reg, bots.WithLogger(slog.New(slog.DiscardHandler)))
	api := &whatsAppAPI{open: true}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	wa, err := twilio.New(twilio.Config{BotID: "demo", Channel: tandem.ChannelWhatsApp, AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken: "f00dfacef00dfacef00dfacef00dface", From: "+15017122661", WebhookURL: "https://bot.example.com/webhooks/whatsapp/demo"},
		twilio.WithBaseURL(srv.URL), twilio.WithHTTPClient(srv.Client()), twilio.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := jobs.NewDeliverer(st, func(bot string, ch tandem.Channel) (connectors.Connector, bool) {
		return wa, bot == "demo" && ch == tandem.ChannelWhatsApp
	}, jobs.DeliveryConfig{HoldFunc: e.HoldOutsideWindow, Logger: slog.New(slog.DiscardHandler),
		Backoff: func(int) time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	return &windowFixture{st: st, reg: reg, e: e, api: api, d: d}
}

// deliver runs one round of the delivery worker and returns how many deliveries it claimed.
func (f *windowFixture) deliver(t *testing.T) int {
	t.Helper()
	n, err := f.d.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// write is the customer's WhatsApp message received at at.
func (f *windowFixture) write(t *testing.T, text, providerID string, at time.Time) *tandem.Turn {
	t.Helper()
	turn, err := f.e.HandleMessage(context.Background(), tandem.Inbound{BotID: "demo", Channel: tandem.ChannelWhatsApp,
		ExternalID: windowCustomer, Text: text, ProviderID: providerID, ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return turn
}

// lateAgent has an agent claim the ticket of asked.
func (f *windowFixture) lateAgent(t *testing.T, asked *tandem.Turn) *tandem.Agent {
	t.Helper()
	agent := &tandem.Agent{Name: "Grace", Email: "grace@example.com", Role: tandem.AgentRoleAgent}
	if err := f.st.CreateAgent(context.Background(), agent); err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.Claim(context.Background(), f.st, asked.Handoff.TicketID, agent.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	return agent
}

func testReopenWindow(t *testing.T, st storage.Store, withReopen bool) {
	ctx := context.Background()
	channels := ""
	if withReopen {
		channels = reopenYAML
	}
	f := newWindowFixture(t, st, channels)
	api, deliver := f.api, func() int { t.Helper(); return f.deliver(t) }
	ada := "Ada"
	// A day and more ago the customer asked for a human; the bot's answer went out then.
	asked := f.write(t, "I want to talk to a human", "SMin1", time.Now().Add(-25*time.Hour))
	if asked.Handoff == nil {
		t.Fatalf("no handoff: %+v", asked.Decision)
	}
	if _, err := st.UpdateCustomer(ctx, asked.CustomerID, storage.CustomerUpdate{DisplayName: &ada}); err != nil {
		t.Fatal(err)
	}
	deliver()
	before, _ := api.snapshot()
	api.setOpen(false)

	// The agent answers late, twice.
	agent := f.lateAgent(t, asked)
	var replies []*tandem.Message
	for _, text := range []string{"Your refund was issued today.", "It takes 3 to 5 days to show up."} {
		m, err := handoff.Reply(ctx, st, handoff.AgentReply{TicketID: asked.Handoff.TicketID, AgentID: agent.ID, Text: text, At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, m)
		time.Sleep(time.Millisecond) // ordered message ids
	}
	status := func(id string) *tandem.Delivery {
		t.Helper()
		dl, err := st.FindDelivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return dl
	}

	if n := deliver(); n != 2 {
		t.Fatalf("claimed %d deliveries, want the 2 replies", n)
	}
	if !withReopen {
		for _, m := range replies {
			if dl := status(m.ID); dl.Status != tandem.DeliveryFailed || dl.Attempts != 1 || !strings.Contains(dl.LastError, "63016") {
				t.Errorf("reply without a reopen template = %s after %d attempts (%s); want failed after 1, for error 63016", dl.Status, dl.Attempts, dl.LastError)
			}
		}
		if n := deliver(); n != 0 {
			t.Errorf("%d deliveries due after the replies failed, want none (no reopen template is sent)", n)
		}
		return
	}
	for _, m := range replies {
		if dl := status(m.ID); dl.Status != tandem.DeliveryHeld {
			t.Fatalf("late reply %q is %s (%s), want held", m.Text, dl.Status, dl.LastError)
		}
	}
	// The reopen template, put in the outbox by the first refusal, goes out once.
	if n := deliver(); n != 1 {
		t.Fatalf("claimed %d deliveries, want the reopen template", n)
	}
	if n := deliver(); n != 0 {
		t.Fatalf("claimed %d more deliveries, want none while the window is closed", n)
	}
	sent, refused := api.snapshot()
	wantTemplate := "template " + reopenSID + ` {"1":"Ada"}`
	if got := sent[len(before):]; !slices.Equal(got, []string{wantTemplate}) {
		t.Fatalf("sent while the window was closed: %q, want only %q", got, wantTemplate)
	}
	if len(refused) != 2 {
		t.Errorf("refused %q, want the two replies once each", refused)
	}
	msgs, err := st.ListMessages(ctx, asked.ConversationID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	reopen := slices.IndexFunc(msgs, func(m tandem.Message) bool { return m.Decision != nil && m.Decision.Kind == bots.DecisionReopen })
	if reopen < 0 || msgs[reopen].Text != "Hi Ada, we have a reply to your question. Reply to this message to see it." {
		t.Fatalf("transcript has no reopen message with the template's text: %+v", msgs)
	}

	// The customer answers the template: the window opens and the replies go out, in order.
	api.setOpen(true)
	turn := f.write(t, "ok, what is it?", "SMin2", time.Now())
	if turn.Decision.Kind != tandem.DecisionRelay || len(turn.Replies) != 0 {
		t.Fatalf("answer = %s with %d replies, want relayed to the agent", turn.Decision.Kind, len(turn.Replies))
	}
	if n := deliver(); n != 2 {
		t.Fatalf("claimed %d deliveries after the customer wrote, want the 2 held replies", n)
	}
	deliver()
	sent, _ = api.snapshot()
	want := []string{wantTemplate, replies[0].Text, replies[1].Text}
	if got := sent[len(before):]; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	for _, m := range replies {
		if dl := status(m.ID); dl.Status != tandem.DeliverySent || dl.ProviderID == "" {
			t.Errorf("reply %q is %s, want sent", m.Text, dl.Status)
		}
	}
	// A provider retry of the customer's message releases nothing twice.
	f.write(t, "ok, what is it?", "SMin2", time.Now())
	if n := deliver(); n != 0 {
		t.Errorf("claimed %d deliveries after a retry, want none", n)
	}
}

// TestReopenWindowSurvey checks a CSAT question asked after the window closed: held with
// the reopen template sent, it goes out when the customer answers the template, before the
// bot's answer, and the customer's next message is read as the rating.
func TestReopenWindowSurvey(t *testing.T) {
	t.Parallel()
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newWindowFixture(t, b.Open(t), reopenYAML)
			asked := f.write(t, "I want to talk to a human", "SMin1", time.Now().Add(-25*time.Hour))
			f.deliver(t)
			before, _ := f.api.snapshot()
			f.api.setOpen(false)
			agent := f.lateAgent(t, asked)
			if err := handoff.Close(ctx, f.st, asked.Handoff.TicketID, agent.ID, time.Now(), f.reg.Survey); err != nil {
				t.Fatal(err)
			}
			if n := f.deliver(t); n != 1 {
				t.Fatalf("claimed %d, want the survey question", n)
			}
			if n := f.deliver(t); n != 1 {
				t.Fatalf("claimed %d, want the reopen template", n)
			}
			f.api.setOpen(true)
			hello := f.write(t, "hello?", "SMin2", time.Now())
			for f.deliver(t) > 0 {
			}
			sent, _ := f.api.snapshot()
			question := f.reg.Survey("demo")
			got := sent[len(before):]
			if len(got) < 3 || !strings.HasPrefix(got[0], "template "+reopenSID) || got[1] != question {
				t.Fatalf("sent %q, want the reopen template, then the survey question, then the bot's answer", got)
			}
			if len(hello.Replies) == 0 || !strings.HasPrefix(got[2], strings.TrimSpace(hello.Replies[0].Text)) {
				t.Errorf("third message = %q, want the bot's answer to %q (%+v)", got[2], "hello?", hello.Replies)
			}
			rated := f.write(t, "5", "SMin3", time.Now())
			if rated.CSATScore != 5 || rated.Decision.Kind != tandem.DecisionSurvey {
				t.Errorf("rating turn = %s score %d, want the survey answered with 5", rated.Decision.Kind, rated.CSATScore)
			}
		})
	}
}
