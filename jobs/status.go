package jobs

import (
	"context"
	"fmt"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/storage"
)

// HandleStatus records a provider's later report on a sent delivery (Twilio's status
// callbacks; connectors.StatusReceiver). Reports only move a delivery forward, from sent
// to delivered or failed, so a report that arrives late, twice, or about an earlier send
// of a delivery sent again changes nothing. A failure because the channel's window was
// closed goes through HoldFunc like the channel's immediate refusal: held, and the
// customer asked to write again, or failed; when HoldFunc errs (the customer may have
// written meanwhile) the delivery is sent again later, until MaxAttempts. An unknown
// provider id is ENOTFOUND.
func (d *Deliverer) HandleStatus(ctx context.Context, r connectors.StatusReport) error {
	d.cfg.ObserveStatus(r.Channel, r.Status)
	if r.Outcome != connectors.StatusDelivered && r.Outcome != connectors.StatusFailed {
		return nil // sent, queued, ...: the worker recorded that the provider took it
	}
	dl, err := d.store.FindDeliveryByProviderID(ctx, r.Channel, r.ProviderID)
	if err != nil {
		return fmt.Errorf("delivery status: %w", err)
	}
	log := d.cfg.Logger.With("message_id", dl.MessageID, "channel", dl.Channel, "provider_id", r.ProviderID, "status", r.Status)
	if dl.Status != tandem.DeliverySent {
		log.Debug("delivery status report changes nothing", "delivery_status", dl.Status)
		return nil
	}
	sent := tandem.DeliverySent
	upd := storage.DeliveryUpdate{IfStatus: &sent, IfProviderID: &r.ProviderID}
	now := d.cfg.Now()
	status, msg := tandem.DeliveryDelivered, r.Reason
	if r.Outcome == connectors.StatusDelivered {
		upd.DeliveredAt = &now
	} else {
		status = tandem.DeliveryFailed
		if r.OutsideWindow && d.cfg.HoldFunc != nil {
			hold, herr := d.cfg.HoldFunc(ctx, *dl)
			switch {
			case herr != nil:
				msg = fmt.Sprintf("%s (and could not hold it: %v)", msg, herr)
				if dl.Attempts < d.cfg.MaxAttempts {
					status = tandem.DeliveryPending
					next := now.Add(d.cfg.Backoff(dl.Attempts))
					upd.NextAt = &next
				}
			case hold:
				status = tandem.DeliveryHeld
			}
		}
		upd.LastError = &msg
	}
	upd.Status = &status
	if _, err := d.store.UpdateDelivery(ctx, dl.MessageID, upd); err != nil {
		if code := tandem.ErrorCode(err); code == tandem.ECONFLICT || code == tandem.ENOTFOUND {
			// Another report (or the worker) changed it first, or it was erased.
			log.Debug("delivery status report changes nothing: the delivery changed meanwhile", "error", err)
			return nil
		}
		return fmt.Errorf("delivery status: %w", err)
	}
	switch status {
	case tandem.DeliveryFailed:
		log.Info("delivery failed after the provider accepted it", "reason", msg)
	case tandem.DeliveryHeld:
		log.Info("delivery held until the customer writes again", "reason", msg)
	case tandem.DeliveryPending:
		log.Warn("delivery outside the channel's window could not be held; will send again", "reason", msg, "next_at", *upd.NextAt)
	default:
		log.Debug("delivery delivered")
	}
	return nil
}
