-- Retention (storage.RetentionStore): messages redacted by the retention worker are marked,
-- so it never processes them again, and it finds the ones left oldest first in
-- messages_unredacted, which holds only messages not redacted yet. Closed conversations
-- are found through conversations_created (0009): a conversation's last activity is never
-- before its creation, so no index on updated_at is needed, which every turn would write.
-- Deleting a conversation cascades to its tickets, which were found by conversation_id
-- only through the partial tickets_one_active: tickets_conversation serves the cascade.
-- Migration 0011 belongs to another change.
ALTER TABLE messages ADD COLUMN redacted_at INTEGER;
CREATE INDEX messages_unredacted ON messages (created_at) WHERE redacted_at IS NULL;
CREATE INDEX tickets_conversation ON tickets (conversation_id);
