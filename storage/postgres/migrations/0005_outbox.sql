-- The outbox: messages on their way to customers' channels (storage.OutboxStore).
CREATE TABLE deliveries (
    message_id  text PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    bot_id      text NOT NULL,
    channel     text NOT NULL,
    recipient   text NOT NULL,
    reply       jsonb NOT NULL,
    status      text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL,
    last_error  text NOT NULL DEFAULT '',
    provider_id text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
-- What the delivery workers poll: only pending rows are in it.
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';
