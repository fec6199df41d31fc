-- Deliveries held until the customer writes again (a closed WhatsApp window): each inbound
-- message releases its sender's (storage.OutboxStore.ReleaseHeldDeliveries). Few rows are
-- ever held, so the partial index stays small.
CREATE INDEX deliveries_held ON deliveries (bot_id, channel, recipient) WHERE status = 'held';
