package twilio

import (
	"net/http"
	"strconv"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// carrierErrors are the Twilio error codes that typically arrive only later, in a status
// callback, when a carrier or WhatsApp drops a message Twilio accepted
// (https://www.twilio.com/docs/api/errors/<code>).
var carrierErrors = map[int]string{
	30001: "Twilio's queue for the sender overflowed",
	30002: "the Twilio account is suspended",
	30003: "the recipient's phone is unreachable (off or out of coverage)",
	30004: "the message was blocked (the recipient or the carrier blocks it)",
	30005: "unknown number, or the phone is no longer in service",
	30006: "the number is a landline or its carrier is unreachable",
	30007: "the carrier filtered the message as spam",
	30008: "the carrier reported an unknown error",
	30009: "a segment of the message was lost",
	30010: "the message's price exceeds the maximum price",
	63049: "Meta chose not to deliver this WhatsApp message",
}

// failureReason is a failed message's error code in words a person reads.
func failureReason(code int, status string) string {
	switch {
	case code == errOutsideWindow:
		return "WhatsApp accepts only templates more than 24 hours after the customer's last message (error 63016)"
	case code == 0:
		return "Twilio reported the message " + status + " without an error code"
	}
	why, ok := carrierErrors[code]
	if !ok {
		why, ok = undeliverable[code]
	}
	if !ok {
		why = "see https://www.twilio.com/docs/api/errors/" + strconv.Itoa(code)
	}
	return why + " (error " + strconv.Itoa(code) + ")"
}

// statusOutcomes maps Twilio's MessageStatus values to what they mean for a delivery.
// Anything else is counted as "other" and changes nothing.
var statusOutcomes = map[string]string{
	"accepted": connectors.StatusProgress, "scheduled": connectors.StatusProgress,
	"queued": connectors.StatusProgress, "sending": connectors.StatusProgress, "sent": connectors.StatusProgress,
	"partially_delivered": connectors.StatusProgress,
	"delivered":           connectors.StatusDelivered, "read": connectors.StatusDelivered,
	"undelivered": connectors.StatusFailed, "failed": connectors.StatusFailed, "canceled": connectors.StatusFailed,
}

// StatusHandler serves Twilio's status callbacks (POST, form-encoded) for
// Config.StatusCallbackURL, or is nil when the connector asks for none. It answers 413 for
// a body over connectors.MaxWebhookBytes, 403 for a missing or wrong signature (nothing is
// recorded), 400 for a malformed form or one without MessageSid and MessageStatus, and
// otherwise hands the report to r: 200 when it is recorded, changes nothing, or names a
// message no delivery knows (Twilio does not retry callbacks, and the sid may be another
// application's); 500 when it could not be recorded.
func (c *Connector) StatusHandler(r connectors.StatusReceiver) http.Handler {
	if c.cfg.StatusCallbackURL == "" {
		return nil
	}
	validator := twclient.NewRequestValidator(c.cfg.AuthToken)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		body, ok := connectors.ReadWebhook(w, req)
		if !ok {
			return
		}
		form, err := parseForm(body)
		if err != nil {
			c.log.WarnContext(ctx, "twilio status callback malformed", "err", err.Error())
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		sig := req.Header.Get(SignatureHeader)
		if sig == "" || !validator.Validate(c.cfg.StatusCallbackURL, form, sig) {
			c.log.WarnContext(ctx, "twilio status callback signature rejected", "has_signature", sig != "")
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		sid, status := form["MessageSid"], form["MessageStatus"]
		if sid == "" || status == "" {
			c.log.WarnContext(ctx, "twilio status callback without MessageSid or MessageStatus")
			http.Error(w, "MessageSid and MessageStatus are required", http.StatusBadRequest)
			return
		}
		rep := connectors.StatusReport{Channel: c.cfg.Channel, ProviderID: sid, Status: status, Outcome: statusOutcomes[status]}
		if rep.Outcome == "" {
			rep.Status, rep.Outcome = "other", connectors.StatusProgress
		}
		if rep.Outcome == connectors.StatusFailed {
			code, _ := strconv.Atoi(form["ErrorCode"])
			rep.Reason = failureReason(code, status)
			rep.OutsideWindow = code == errOutsideWindow && c.cfg.Channel == tandem.ChannelWhatsApp
		}
		log := c.log.With("message_sid", sid, "message_status", status)
		switch err := r.HandleStatus(ctx, rep); {
		case err == nil:
			log.DebugContext(ctx, "twilio status callback recorded", "error_code", form["ErrorCode"])
		case tandem.ErrorCode(err) == tandem.ENOTFOUND:
			log.DebugContext(ctx, "twilio status callback for a message no delivery knows; acknowledged")
		default:
			log.ErrorContext(ctx, "twilio status callback not recorded", "err", err.Error())
			http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
