package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// Handler serves the app's Events API request URL (JSON) and its interactivity request
// URL (form posts); both may point at the same path. Every request is bounded to
// connectors.MaxWebhookBytes (413) and must carry a valid Slack signature no more than
// five minutes old (401); nothing unsigned reaches r.
//
// A customer's direct message, or a click on a quick-reply button, is handed to r and
// acknowledged only after r returns: 200 once it is stored (or was already, on Slack's
// retries, which carry the same channel and ts), 400 when the engine refuses it
// (EINVALID), 413 for ETOOLARGE, and 503 otherwise so that Slack retries it. Everything
// else Slack sends (url_verification aside, which is answered with its challenge) is
// acknowledged with 200 and ignored: messages outside direct messages, edits, joins and
// other subtyped messages (file_share aside, whose text is taken), messages without text,
// messages from bots including this app, other interactions, and unknown events.
func (c *Connector) Handler(r connectors.Receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, ok := connectors.ReadWebhook(w, req)
		if !ok {
			return
		}
		if err := c.verify(req.Header, body); err != nil {
			c.logger.DebugContext(req.Context(), "slack: refused an unsigned request", "error", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if n := req.Header.Get("X-Slack-Retry-Num"); n != "" {
			c.logger.DebugContext(req.Context(), "slack: retried request", "retry_num", n,
				"retry_reason", req.Header.Get("X-Slack-Retry-Reason"))
		}
		ctype, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
		var in *tandem.Inbound
		var err error
		switch ctype {
		case "application/json":
			in, err = c.parseEvent(w, body)
		case "application/x-www-form-urlencoded":
			in, err = c.parseInteraction(body)
		default:
			http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
			return
		}
		switch {
		case err != nil:
			http.Error(w, "malformed request", http.StatusBadRequest)
			return
		case in == nil:
			return // answered or ignored by the parser; an empty 200 otherwise
		}
		c.deliver(req.Context(), w, r, *in)
	})
}

// verify checks Slack's v0 signature of body and the freshness of its timestamp.
func (c *Connector) verify(h http.Header, body []byte) error {
	sv, err := slackapi.NewSecretsVerifier(h, c.cfg.SigningSecret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

// handleTimeout bounds the engine's work on one inbound message once Slack has hung up.
const handleTimeout = 30 * time.Second

// deliver hands in to the engine and acknowledges Slack according to the outcome.
func (c *Connector) deliver(ctx context.Context, w http.ResponseWriter, r connectors.Receiver, in tandem.Inbound) {
	// Slack gives up on a request after 3 s and retries it; the message should still be
	// committed (the retry is then dropped as a duplicate), so a hang-up does not cancel it.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleTimeout)
	defer cancel()
	turn, err := r.HandleMessage(hctx, in)
	switch status := connectors.AckStatus(err); status {
	case http.StatusOK:
		if turn != nil && turn.Duplicate {
			c.logger.DebugContext(ctx, "slack: duplicate message dropped", "provider_id", in.ProviderID)
		}
		w.WriteHeader(http.StatusOK)
	case http.StatusServiceUnavailable:
		c.logger.ErrorContext(ctx, "slack: inbound message not stored", "provider_id", in.ProviderID, "error", err)
		http.Error(w, "temporarily unavailable", status)
	default:
		http.Error(w, tandem.ErrorMessage(err), status)
	}
}

// envelope is the part of an Events API request that decides whether to parse further.
type envelope struct {
	Type  string `json:"type"`
	Event struct {
		Type string `json:"type"`
	} `json:"event"`
}

// parseEvent returns the customer message an Events API request carries, nil after
// answering a url_verification or for an event that is ignored, or an error for a
// malformed request.
func (c *Connector) parseEvent(w http.ResponseWriter, body []byte) (*tandem.Inbound, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	switch {
	case env.Type == slackevents.URLVerification:
		var v slackevents.EventsAPIURLVerificationEvent
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, v.Challenge)
		return nil, nil
	case env.Type == slackevents.AppRateLimited:
		c.logger.Warn("slack: Slack is dropping the app's events: rate limited")
		return nil, nil
	case env.Type != slackevents.CallbackEvent || env.Event.Type != string(slackevents.Message):
		return nil, nil
	}
	// The signature has been checked; the legacy verification token is not used.
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return nil, err
	}
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	msg, ok2 := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || !ok2 {
		return nil, errors.New("slack: message event without a message")
	}
	// A file_share is a customer's message with files attached: its text is answered, the
	// files are not read. A message with no text (files or blocks only) has nothing the
	// engine can answer and is dropped rather than refused, which Slack would retry.
	if !msg.IsIM() || (msg.SubType != "" && msg.SubType != "file_share") || msg.BotID != "" ||
		msg.User == "" || msg.TimeStamp == "" || isAppUser(cb, msg.User) {
		return nil, nil
	}
	text := plainText(msg.Text)
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	team := msg.UserTeam
	if team == "" {
		team = cb.TeamID
	}
	return &tandem.Inbound{
		BotID:      c.cfg.BotID,
		Channel:    tandem.ChannelSlack,
		ExternalID: externalID(team, msg.User),
		Text:       text,
		ProviderID: msg.Channel + ":" + msg.TimeStamp,
		ReceivedAt: c.now(),
	}, nil
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

// parseInteraction returns the customer message a click on a quick-reply button makes,
// nil for any other interaction, or an error for a malformed request.
func (c *Connector) parseInteraction(body []byte) (*tandem.Inbound, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	var ic slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		return nil, err
	}
	if ic.Type != slackapi.InteractionTypeBlockActions || ic.User.ID == "" {
		return nil, nil
	}
	for _, a := range ic.ActionCallback.BlockActions {
		if a == nil || a.Type != slackapi.ActionType(slackapi.METButton) ||
			!strings.HasPrefix(a.ActionID, QuickReplyActionID) {
			continue
		}
		ts := a.ActionTs
		if ts == "" {
			ts = ic.ActionTs
		}
		team := ic.User.TeamID
		if team == "" {
			team = ic.Team.ID
		}
		return &tandem.Inbound{
			BotID:      c.cfg.BotID,
			Channel:    tandem.ChannelSlack,
			ExternalID: externalID(team, ic.User.ID),
			Text:       a.Value,
			ProviderID: "action:" + ts + ":" + ic.User.ID,
			ReceivedAt: c.now(),
		}, nil
	}
	return nil, nil
}

// externalID qualifies a Slack user id with its workspace, so that the same id in two
// workspaces names two customers; Send accepts it as a recipient.
func externalID(team, user string) string {
	if team == "" {
		return user
	}
	return team + "/" + user
}
