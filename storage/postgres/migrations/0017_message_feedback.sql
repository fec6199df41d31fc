-- Customers' votes on the bot's knowledge answers, "was this helpful?"
-- (storage.FeedbackStore): one per answer, replaced when the customer votes again. A vote
-- goes with its message (retention, erasure). question_id is the customer message the
-- answer replied to, in the same conversation, so it goes with it too and needs no
-- foreign key. The reports count the votes of a period (message_feedback_at).
-- Other changes may take migration numbers next to this one.
CREATE TABLE message_feedback (
    message_id      text PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id text NOT NULL,
    customer_id     text NOT NULL,
    bot_id          text NOT NULL,
    question_id     text NOT NULL DEFAULT '',
    helpful         boolean NOT NULL,
    comment         text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL
);
CREATE INDEX message_feedback_at ON message_feedback (at);
CREATE INDEX message_feedback_conversation ON message_feedback (conversation_id);
