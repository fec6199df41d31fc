package twilio

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// emptyTwiML acknowledges a message without answering in the response: replies go out
// through the outbox and Send.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// SignatureHeader carries Twilio's signature of a webhook: base64 HMAC-SHA1, keyed with the
// auth token, of the webhook URL followed by each form parameter's name and value, sorted by
// name.
const SignatureHeader = "X-Twilio-Signature"

// Handler serves Twilio's incoming-message webhook (POST, form-encoded) for Config.WebhookURL.
// It answers 413 for a body over connectors.MaxWebhookBytes, 403 for a missing or wrong
// signature, 400 for a malformed message or one from the other channel, and otherwise hands
// the message to r and acknowledges it after r returns: 200 with empty TwiML when it is
// stored (or a duplicate), 400 when the engine refuses it (EINVALID), 413 for ETOOLARGE,
// and 503 for anything else so that Twilio retries. A message with media and no text is
// acknowledged without reaching the engine, which reads only text.
func (c *Connector) Handler(r connectors.Receiver) http.Handler {
	validator := twclient.NewRequestValidator(c.cfg.AuthToken)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, ok := connectors.ReadWebhook(w, req)
		if !ok {
			return
		}
		form, err := parseForm(body)
		if err != nil {
			c.log.WarnContext(req.Context(), "twilio webhook malformed", "err", err.Error())
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		sig := req.Header.Get(SignatureHeader)
		if sig == "" || !validator.Validate(c.cfg.WebhookURL, form, sig) {
			c.log.WarnContext(req.Context(), "twilio webhook signature rejected", "has_signature", sig != "")
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}

		sid, from, text := form["MessageSid"], form["From"], form["Body"]
		log := c.log.With("message_sid", sid)
		if sid == "" || strings.TrimPrefix(from, whatsAppPrefix) == "" {
			log.WarnContext(req.Context(), "twilio webhook without MessageSid or From")
			http.Error(w, "MessageSid and From are required", http.StatusBadRequest)
			return
		}
		channel, external := tandem.ChannelSMS, from
		if rest, ok := strings.CutPrefix(from, whatsAppPrefix); ok {
			channel, external = tandem.ChannelWhatsApp, rest
		}
		if channel != c.cfg.Channel {
			// The number's webhook points at the other channel's connector; answering on
			// this one would reply over the wrong channel.
			log.ErrorContext(req.Context(), "twilio webhook for another channel", "webhook_channel", string(channel))
			http.Error(w, "message is for another channel", http.StatusBadRequest)
			return
		}
		if strings.TrimSpace(text) == "" {
			if n, _ := strconv.Atoi(form["NumMedia"]); n > 0 {
				log.InfoContext(req.Context(), "twilio media-only message ignored: the bot reads text only", "num_media", n)
				ackTwiML(w)
				return
			}
		}
		log.DebugContext(req.Context(), "twilio message received", "body", text)

		turn, err := r.HandleMessage(req.Context(), tandem.Inbound{
			BotID:      c.cfg.BotID,
			Channel:    channel,
			ExternalID: external,
			Text:       text,
			ProviderID: sid,
			ReceivedAt: c.now(),
		})
		switch status := connectors.AckStatus(err); status {
		case http.StatusOK:
			if turn != nil && turn.Duplicate {
				log.InfoContext(req.Context(), "twilio retry of a stored message acknowledged")
			}
			ackTwiML(w)
		case http.StatusServiceUnavailable:
			// Not stored: 5xx makes Twilio retry. The error text stays in our log.
			log.ErrorContext(req.Context(), "twilio message not stored", "err", err.Error())
			http.Error(w, "temporarily unavailable", status)
		default:
			log.InfoContext(req.Context(), "twilio message refused", "err", err.Error())
			http.Error(w, tandem.ErrorMessage(err), status)
		}
	})
}

func ackTwiML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, emptyTwiML)
}

// parseForm parses a form body into one value per name. Twilio never repeats a name in a
// messaging webhook (media come as MediaUrl0, MediaUrl1, ...), and the signature validator
// reads one value per name, so a repeated name is refused: what is read is what was signed.
func parseForm(body []byte) (map[string]string, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	form := make(map[string]string, len(values))
	for k, v := range values {
		if len(v) != 1 {
			return nil, errors.New("parameter " + strconv.Quote(k) + " is repeated")
		}
		form[k] = v[0]
	}
	return form, nil
}
