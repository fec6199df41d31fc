-- Customers' votes on the bot's knowledge answers, "was this helpful?"
-- (storage.FeedbackStore): one per answer, replaced when the customer votes again. A vote
-- goes with its message (retention, erasure). question_id is the customer message the
-- answer replied to, in the same conversation, so it goes with it too and needs no
-- foreign key. The reports count the votes of a period (message_feedback_at).
-- Other changes may take migration numbers next to this one.
CREATE TABLE message_feedback (
    message_id      TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    bot_id          TEXT NOT NULL,
    question_id     TEXT NOT NULL DEFAULT '',
    helpful         INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    comment         TEXT NOT NULL DEFAULT '',
    at              INTEGER NOT NULL
);
CREATE INDEX message_feedback_at ON message_feedback (at);
CREATE INDEX message_feedback_conversation ON message_feedback (conversation_id);
