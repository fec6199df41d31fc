package slackdesk

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// handleTimeout bounds the work on one request once Slack has hung up (it waits 3 s).
const handleTimeout = 30 * time.Second

// Handler serves the Slack app's interactivity and Events API request URLs (both may be
// the same, e.g. POST /desks/slack). Every request is bounded to connectors.MaxWebhookBytes
// (413) and must carry a valid Slack signature no more than five minutes old (401, and
// nothing happens).
//
// A click on a card's button runs handoff.Claim, GiveBack or Close as the clicking user's
// agent and redraws the card; a refused click (not an agent, another agent was first, the
// ticket is not theirs) is answered with an ephemeral message carrying the desk's reason.
// Transfer opens the transfer form, whose submission (view_submission) is handoff.Transfer,
// refusals answered on the form (response_action errors). A human's reply (no subtype) in a
// card's thread is handoff.Reply as their agent, so the customer gets it on their channel;
// a refused reply is not sent and is answered with an ephemeral message in the thread.
// Slack is answered 200 once the operation is stored or refused, and 503 when the store or
// Slack's users.info failed, so that Slack retries events. A retried event (same channel
// and ts) is dropped: in this process by an in-memory record of recent replies, which also
// holds a retry back while the first delivery is still being handled; across replicas and
// restarts by the store, since the reply's provider id is the Slack message
// ("slack:<channel>:<ts>") and handoff.Reply stores a provider id once.
//
// Everything else (url_verification aside, answered with its challenge) gets 200 and is
// ignored: other channels, top-level messages, bots (this app's own posts included), edits
// and other subtypes, threads that are not cards, other interactions.
func (d *Desk) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := connectors.ReadWebhook(w, r)
		if !ok {
			return
		}
		if err := d.verify(r.Header, body); err != nil {
			d.logger.DebugContext(r.Context(), "slackdesk: refused an unsigned request", "error", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		// Slack gives up after 3 s and retries; what was started should still finish, so a
		// hang-up does not cancel it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
		defer cancel()
		ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var status int
		switch ctype {
		case "application/json":
			status = d.event(ctx, w, body)
		case "application/x-www-form-urlencoded":
			status = d.interaction(ctx, w, body)
		default:
			status = http.StatusUnsupportedMediaType
		}
		switch status {
		case 0: // answered
		case http.StatusOK:
			w.WriteHeader(status)
		default:
			http.Error(w, http.StatusText(status), status)
		}
	})
}

// verify checks Slack's v0 signature of body and the freshness of its timestamp.
func (d *Desk) verify(h http.Header, body []byte) error {
	sv, err := slack.NewSecretsVerifier(h, d.cfg.SigningSecret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

// event handles an Events API request and returns the status to answer (0 when answered).
func (d *Desk) event(ctx context.Context, w http.ResponseWriter, body []byte) int {
	var env struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		Event     struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return http.StatusBadRequest
	}
	switch {
	case env.Type == slackevents.URLVerification:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, env.Challenge)
		return 0
	case env.Type != slackevents.CallbackEvent || env.Event.Type != string(slackevents.Message):
		return http.StatusOK
	}
	// The signature has been checked; the legacy verification token is not used.
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return http.StatusBadRequest
	}
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	msg, ok2 := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || !ok2 {
		return http.StatusBadRequest
	}
	if msg.Channel != d.cfg.Channel || msg.ThreadTimeStamp == "" || msg.ThreadTimeStamp == msg.TimeStamp ||
		msg.SubType != "" || msg.BotID != "" || msg.User == "" || msg.TimeStamp == "" || isAppUser(cb, msg.User) {
		return http.StatusOK
	}
	text := plainText(msg.Text)
	if text == "" {
		return http.StatusOK
	}
	return d.threadReply(ctx, msg.Channel, msg.ThreadTimeStamp, msg.TimeStamp, msg.User, text)
}

// isAppUser reports whether user is this app's bot user in the installation the event
// was delivered for.
func isAppUser(cb *slackevents.EventsAPICallbackEvent, user string) bool {
	for _, a := range cb.Authorizations {
		if a.IsBot && a.UserID == user {
			return true
		}
	}
	return false
}

// NotePrefix starts a thread message that is an internal note for agents (handoff.AddNote),
// stored on the ticket and never sent to the customer: "note: called them, refund approved".
// It is matched without regard to case, after leading spaces.
const NotePrefix = "note:"

// noteText returns the note of a thread message that starts with NotePrefix.
func noteText(text string) (string, bool) {
	text = strings.TrimSpace(text)
	if len(text) < len(NotePrefix) || !strings.EqualFold(text[:len(NotePrefix)], NotePrefix) {
		return "", false
	}
	return strings.TrimSpace(text[len(NotePrefix):]), true
}

// threadReply sends an agent's reply in a card's thread to the customer, once; a reply
// starting with NotePrefix is stored as an internal note instead (any agent may write one).
func (d *Desk) threadReply(ctx context.Context, channel, threadTS, ts, user, text string) int {
	found, err := d.store.ListTickets(ctx, storage.TicketFilter{DeskRef: deskRef(channel, threadTS), Limit: 1})
	if err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: find ticket of a thread", "error", err)
		return http.StatusServiceUnavailable
	}
	if len(found) == 0 {
		return http.StatusOK // a thread that is not a card's
	}
	t := found[0]
	key := deskRef(channel, ts)
	for {
		wait := d.replies.claim(key)
		if wait == nil {
			break
		}
		select { // the same event is being handled: its outcome is this one's
		case <-wait:
		case <-ctx.Done():
			return http.StatusServiceUnavailable
		}
		if d.replies.done(key) {
			return http.StatusOK
		}
	}
	handled := false
	defer func() { d.replies.finish(key, handled) }()
	agent, err := d.agent(ctx, user)
	if refused(err) {
		handled = true
		d.tell(user, threadTS, "Not sent to the customer: "+tandem.ErrorMessage(err))
		return http.StatusOK
	}
	if err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: find the agent of a thread reply", "error", err)
		return http.StatusServiceUnavailable
	}
	if note, ok := noteText(text); ok {
		status, done := d.threadNote(ctx, t, agent, note, key, user, threadTS)
		handled = done
		return status
	}
	m, err := handoff.Reply(ctx, d.store, handoff.AgentReply{TicketID: t.ID, AgentID: agent.ID, Text: text,
		ProviderID: key, At: d.now()})
	switch tandem.ErrorCode(err) {
	case "":
		handled = true
		d.publish(ctx, events.Event{Topic: t.ConversationID, Kind: events.KindMessage, MessageID: m.ID})
		return http.StatusOK
	case tandem.EDUPLICATE: // a retry another replica (or an earlier run) stored
		handled = true
		return http.StatusOK
	case tandem.ECONFLICT, tandem.EINVALID, tandem.ETOOLARGE, tandem.ENOTFOUND:
		handled = true
		d.tell(user, threadTS, "Not sent to the customer: "+tandem.ErrorMessage(err))
		return http.StatusOK
	}
	d.logger.ErrorContext(ctx, "slackdesk: store an agent's reply", "ticket_id", t.ID, "error", err)
	return http.StatusServiceUnavailable
}

// threadNote stores a thread message as an internal note on ticket t, once, and says so to
// its author only; it returns the status to answer Slack and whether the event is handled.
func (d *Desk) threadNote(ctx context.Context, t tandem.Ticket, agent *tandem.Agent, note, key, user, threadTS string) (int, bool) {
	n, err := handoff.AddNote(ctx, d.store, handoff.NoteRequest{TicketID: t.ID, By: agent, Text: note, ProviderID: key, At: d.now()})
	switch tandem.ErrorCode(err) {
	case "":
		d.publish(ctx, events.Event{Topic: n.ConversationID, Kind: events.KindNote})
		d.tell(user, threadTS, "Internal note saved on the ticket: only agents see it, the customer does not.")
		return http.StatusOK, true
	case tandem.EDUPLICATE: // a retry another replica (or an earlier run) stored
		return http.StatusOK, true
	case tandem.EINVALID, tandem.ETOOLARGE, tandem.EFORBIDDEN, tandem.ENOTFOUND:
		d.tell(user, threadTS, "Note not saved: "+tandem.ErrorMessage(err))
		return http.StatusOK, true
	}
	d.logger.ErrorContext(ctx, "slackdesk: store an agent's note", "ticket_id", t.ID, "error", err)
	return http.StatusServiceUnavailable, false
}

// interaction handles a click on a card's button or the submission of the transfer form,
// and returns the status to answer (0 when answered).
func (d *Desk) interaction(ctx context.Context, w http.ResponseWriter, body []byte) int {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return http.StatusBadRequest
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		return http.StatusBadRequest
	}
	if ic.User.ID == "" {
		return http.StatusOK
	}
	if ic.Type == slack.InteractionTypeViewSubmission && ic.View.CallbackID == transferCallback {
		return d.submitTransfer(ctx, w, &ic)
	}
	if ic.Type != slack.InteractionTypeBlockActions {
		return http.StatusOK
	}
	channel := ic.Channel.ID
	if channel == "" {
		channel = ic.Container.ChannelID
	}
	if channel != d.cfg.Channel {
		return http.StatusOK
	}
	cardTS := ic.Container.MessageTs
	if cardTS == "" {
		cardTS = ic.Message.Timestamp
	}
	for _, a := range ic.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		var op func(ctx context.Context, s handoff.DeskStore, ticketID, agentID string, now time.Time) error
		switch a.ActionID {
		case ActionClaim:
			op = func(ctx context.Context, s handoff.DeskStore, ticketID, agentID string, now time.Time) error {
				_, err := handoff.Claim(ctx, s, ticketID, agentID, now)
				return err
			}
		case ActionGiveBack:
			op = handoff.GiveBack
		case ActionClose:
			op = func(ctx context.Context, s handoff.DeskStore, ticketID, agentID string, now time.Time) error {
				return handoff.Close(ctx, s, ticketID, agentID, now, d.surveys)
			}
		case ActionTransfer:
			return d.openTransfer(ctx, a.Value, ic.User.ID, ic.TriggerID, channel, cardTS)
		default:
			continue
		}
		return d.click(ctx, op, a.Value, ic.User.ID, channel, cardTS)
	}
	return http.StatusOK
}

// click runs one card button's operation as the clicking user's agent.
func (d *Desk) click(ctx context.Context, op func(ctx context.Context, s handoff.DeskStore, ticketID, agentID string, now time.Time) error,
	ticketID, user, channel, cardTS string) int {
	agent, err := d.agent(ctx, user)
	if refused(err) {
		d.tell(user, "", tandem.ErrorMessage(err))
		return http.StatusOK
	}
	if err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: find the agent of a click", "error", err)
		return http.StatusServiceUnavailable
	}
	err = op(ctx, d.store, ticketID, agent.ID, d.now())
	switch tandem.ErrorCode(err) {
	case "":
		if t, ferr := d.store.FindTicketByID(ctx, ticketID); ferr == nil {
			d.publish(ctx, events.Event{Topic: t.ConversationID, Kind: events.KindStatus})
		}
		d.publish(ctx, events.Event{Topic: events.TopicTickets, Kind: events.KindStatus})
	case tandem.ECONFLICT, tandem.EINVALID, tandem.ENOTFOUND:
		d.tell(user, "", tandem.ErrorMessage(err))
	default:
		d.logger.ErrorContext(ctx, "slackdesk: ticket action", "ticket_id", ticketID, "error", err)
		return http.StatusServiceUnavailable
	}
	// Redraw the card either way: a refused click was made on a card that is out of date.
	d.redraw(ctx, ticketID, channel, cardTS)
	return http.StatusOK
}

// tell queues an ephemeral message to a Slack user in the agents' channel (in a thread
// when threadTS is set).
func (d *Desk) tell(user, threadTS, text string) {
	if err := d.enqueue(job{kind: jobEphemeral, user: user, threadTS: threadTS, text: escape(text)}); err != nil {
		d.logger.Warn("slackdesk: agent not answered", "error", err)
	}
}

// link is Slack's markup of links, mentions and channel references: <target|label>.
var link = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// plainText is what an agent wrote, without Slack's markup: links become their label (or
// address), mentions their id, entities their character.
func plainText(s string) string {
	s = link.ReplaceAllStringFunc(s, func(m string) string {
		sub := link.FindStringSubmatch(m)
		if sub[2] != "" {
			return sub[2]
		}
		target := strings.TrimPrefix(sub[1], "mailto:")
		if strings.HasPrefix(target, "!") {
			return "@" + strings.TrimPrefix(target, "!")
		}
		return target
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	return strings.TrimSpace(s)
}

// recent remembers the Slack messages this process handled lately, and those it is
// handling, so that a retry waits for the first delivery's outcome instead of running
// alongside it. It holds a fixed number of keys, forgetting the oldest.
type recent struct {
	mu   sync.Mutex
	keys map[string]*recentEntry
	ring []string
	next int
}

type recentEntry struct {
	done    chan struct{} // closed when the first delivery finished
	handled bool
	slot    int // in ring
}

func newRecent(n int) *recent {
	return &recent{keys: map[string]*recentEntry{}, ring: make([]string, n)}
}

// claim returns nil when the caller is the first to handle key (it must call finish), or
// a channel that is closed once the first has finished (see done).
func (r *recent) claim(key string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.keys[key]; ok {
		return e.done
	}
	if e, ok := r.keys[r.ring[r.next]]; ok && e.slot == r.next {
		delete(r.keys, r.ring[r.next])
	}
	r.ring[r.next] = key
	r.keys[key] = &recentEntry{done: make(chan struct{}), slot: r.next}
	r.next = (r.next + 1) % len(r.ring)
	return nil
}

// finish records the outcome of handling key: when it was not handled (a failure Slack
// should retry), the key is forgotten so the retry handles it.
func (r *recent) finish(key string, handled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.keys[key]
	if !ok {
		return
	}
	e.handled = handled
	if !handled {
		delete(r.keys, key)
	}
	close(e.done)
}

// done reports whether key was handled.
func (r *recent) done(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.keys[key]
	return ok && e.handled
}
