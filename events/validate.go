package events

import "github.com/tandemhq/tandem"

// Validate reports why a publisher may not send e, as a *tandem.Error with code EINVALID.
// Adapters call it in Publish.
func (e Event) Validate() error {
	if err := ValidateTopic(e.Topic); err != nil {
		return err
	}
	if len(e.TicketID) > MaxTopicBytes {
		return tandem.Errorf(tandem.EINVALID, "events: ticket id is %d bytes; the limit is %d", len(e.TicketID), MaxTopicBytes)
	}
	switch e.Kind {
	case KindMessage, KindStatus, KindNote:
		return nil
	case KindTyping:
		if e.Role != tandem.RoleCustomer && e.Role != tandem.RoleAgent {
			return tandem.Errorf(tandem.EINVALID, "events: a %q event needs the role customer or agent, not %q", KindTyping, e.Role)
		}
		return nil
	case KindMissed:
		return tandem.Errorf(tandem.EINVALID, "events: only a bus sends %q events", KindMissed)
	default:
		return tandem.Errorf(tandem.EINVALID, "events: unknown kind %q", e.Kind)
	}
}

// ValidateTopic reports an empty or oversized topic as a *tandem.Error with code EINVALID.
func ValidateTopic(topic string) error {
	switch {
	case topic == "":
		return tandem.Errorf(tandem.EINVALID, "events: empty topic")
	case len(topic) > MaxTopicBytes:
		return tandem.Errorf(tandem.EINVALID, "events: topic is %d bytes; the limit is %d", len(topic), MaxTopicBytes)
	}
	return nil
}
