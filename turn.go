package tandem

import "time"

// Inbound is a customer message as a connector hands it to the engine.
type Inbound struct {
	BotID      string
	Channel    Channel
	ExternalID string // the customer's id on that channel (phone number, visitor id, ...)
	Text       string
	ProviderID string // the provider's message id, for de-duplication; may be empty
	// ConversationID, when set, continues that conversation (e.g. the web widget's session).
	ConversationID string
	ReceivedAt     time.Time
}

// QuickReply is a suggested answer the customer can tap.
type QuickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// Reply is one message the bot sends back; connectors render it for their channel.
type Reply struct {
	// MessageID is the stored bot message of the reply, set once the turn is recorded (what
	// a customer's feedback on the answer names); empty in deliveries.
	MessageID    string       `json:"message_id,omitempty"`
	Text         string       `json:"text"`
	Citations    []Citation   `json:"citations,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	// Template, when set, is sent instead of Text by connectors whose channel has
	// pre-approved templates (WhatsApp through Twilio); Text is then what the template
	// says, for the transcript and for channels without templates.
	Template *Template `json:"template,omitempty"`
}

// Redacted returns r with redact applied to its text and its template's variables (the
// customer's data), for retention.
func (r Reply) Redacted(redact func(string) string) Reply {
	r.Text = redact(r.Text)
	if r.Template != nil {
		t := *r.Template
		t.Variables = make(map[string]string, len(r.Template.Variables))
		for k, v := range r.Template.Variables {
			t.Variables[k] = redact(v)
		}
		r.Template = &t
	}
	return r
}

// Template is a message template the channel's provider approved beforehand (a WhatsApp
// template, sent with Twilio's Content API): the only kind of message WhatsApp accepts
// outside its customer-service window.
type Template struct {
	Name       string `json:"name"`        // the bot's name for it
	ContentSID string `json:"content_sid"` // the provider's id ("HX…")
	// Variables are the rendered values of the template's placeholders, by number ("1").
	Variables map[string]string `json:"variables,omitempty"`
}

// HandoffInfo tells the caller that a human was asked to take over.
type HandoffInfo struct {
	TicketID string `json:"ticket_id"`
	Queue    string `json:"queue"`
	Reason   string `json:"reason"`
}

// Turn is the engine's answer to one inbound message.
type Turn struct {
	ConversationID string
	CustomerID     string
	MessageID      string // the stored inbound message
	Duplicate      bool   // the inbound was a provider retry and was dropped
	Replies        []Reply
	Annotations    Annotations
	Decision       Decision
	Handoff        *HandoffInfo
	// ActiveFlow and ActiveStep are the flow in progress after the turn and the step it
	// waits in; empty when no flow is active.
	ActiveFlow string
	ActiveStep string
	// CSATScore is the customer's rating (1 to 5) when the turn answered a satisfaction
	// survey (Decision.Kind DecisionSurvey), else 0.
	CSATScore int
}
