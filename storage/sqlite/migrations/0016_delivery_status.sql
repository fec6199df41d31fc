-- Providers' later status reports (Twilio's status callbacks): a report names the message by
-- the provider's id, and a delivered one records when (NULL until then).
ALTER TABLE deliveries ADD COLUMN delivered_at INTEGER;
-- Only sent deliveries have a provider id; the lookups say provider_id <> '' to use it.
CREATE INDEX deliveries_provider ON deliveries (channel, provider_id) WHERE provider_id <> '';
