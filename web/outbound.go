package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// OutboundRequest asks a bot to write first (POST /api/v1/bots/{bot}/outbound). Its fields
// match bots.OutboundRequest one for one, so the application converts it with
// bots.OutboundRequest(req). Unknown JSON fields are rejected.
type OutboundRequest struct {
	BotID      string         `json:"-"` // from the URL
	Channel    tandem.Channel `json:"channel"`
	ExternalID string         `json:"user"` // the customer's id on Channel (phone number, ...)
	// Exactly one of Text, Response (a named response of the bot), Flow and Template (a
	// template of the bot on Channel, for WhatsApp outside its 24-hour window).
	Text     string            `json:"text,omitempty"`
	Response string            `json:"response,omitempty"`
	Flow     string            `json:"flow,omitempty"`
	Template string            `json:"template,omitempty"`
	Slots    map[string]string `json:"slots,omitempty"`
	Reason   string            `json:"reason,omitempty"`
}

// OutboundFunc sends a proactive message and returns the turn with the replies. The
// application wires it to the engine's SendOutbound plus delivery on channels other than
// REST (for REST the caller gets the replies in the response). Errors are *tandem.Error:
// ENOTFOUND unknown bot, EINVALID bad request, EFORBIDDEN customer opted out, ECONFLICT
// quiet hours, daily limit or a human holds the conversation.
type OutboundFunc func(ctx context.Context, req OutboundRequest) (*tandem.Turn, error)

// minAPIKeyBytes is the shortest API key Validate accepts.
const minAPIKeyBytes = 16

// knownChannels are the channels a proactive message may name.
var knownChannels = map[tandem.Channel]bool{
	tandem.ChannelREST: true, tandem.ChannelWebChat: true, tandem.ChannelSMS: true,
	tandem.ChannelWhatsApp: true, tandem.ChannelSlack: true, tandem.ChannelDiscord: true,
	tandem.ChannelEmail: true, tandem.ChannelTerminal: true,
}

// handleOutbound is the REST route for proactive messages. It can message any phone number
// or user, so it always requires an API key (Authorization: Bearer <key>).
func (s *Server) handleOutbound(w http.ResponseWriter, r *http.Request) {
	if err := s.authorizeAPIKey(r); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
		WriteError(w, r, s.log, err)
		return
	}
	bot := r.PathValue("bot")
	if !botNameRE.MatchString(bot) {
		WriteError(w, r, s.log, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", bot))
		return
	}
	var req OutboundRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	req.BotID = bot
	req.Text = strings.TrimSpace(req.Text)
	if err := s.validateOutbound(req); err != nil {
		WriteError(w, r, s.log, err)
		return
	}
	start := time.Now()
	turn, err := s.deps.Outbound(r.Context(), req)
	if err != nil {
		s.metrics.turnErrors.WithLabelValues(tandem.ErrorCode(err)).Inc()
		WriteError(w, r, s.log, fmt.Errorf("send outbound: %w", err))
		return
	}
	if turn == nil {
		WriteError(w, r, s.log, fmt.Errorf("send outbound: no turn"))
		return
	}
	s.metrics.observeTurn(bot, turn, time.Since(start).Seconds())
	writeJSON(w, http.StatusOK, newPostMessageResponse(turn))
}

func (s *Server) validateOutbound(req OutboundRequest) error {
	set := 0
	for _, v := range []string{req.Text, req.Response, req.Flow, req.Template} {
		if strings.TrimSpace(v) != "" {
			set++
		}
	}
	switch {
	case !knownChannels[req.Channel]:
		return tandem.Errorf(tandem.EINVALID, `"channel" must be one of rest, webchat, sms, whatsapp, slack, discord, email, terminal`)
	case strings.TrimSpace(req.ExternalID) == "":
		return tandem.Errorf(tandem.EINVALID, `"user" is required`)
	case len(req.ExternalID) > maxIDBytes:
		return tandem.Errorf(tandem.EINVALID, `"user" is longer than %d bytes`, maxIDBytes)
	case set != 1:
		return tandem.Errorf(tandem.EINVALID, `exactly one of "text", "response", "flow" and "template" is required`)
	case len(req.Text) > s.cfg.MaxMessageBytes:
		return tandem.Errorf(tandem.ETOOLARGE, `"text" is %d bytes; the limit is %d`, len(req.Text), s.cfg.MaxMessageBytes)
	}
	return nil
}
