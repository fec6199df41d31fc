-- Agents' internal notes on handed-off conversations (storage.NoteStore). They are a table
-- of their own, not messages with another role, so nothing that reads messages (the
-- customer's transcript, the web chat, delivery, NLU) can show or send one.
-- Deleting a conversation (retention, erasure) cascades to its notes; a desk's retry of
-- the same note is dropped by provider_id.
CREATE TABLE ticket_notes (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    ticket_id       TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    provider_id     TEXT NOT NULL DEFAULT '',
    redacted_at     INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ticket_notes_conversation ON ticket_notes (conversation_id, created_at);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id);
-- The retention worker's redaction finds old notes not yet redacted.
CREATE INDEX ticket_notes_unredacted ON ticket_notes (created_at) WHERE redacted_at IS NULL;
CREATE UNIQUE INDEX ticket_notes_provider ON ticket_notes (provider_id) WHERE provider_id <> '';
