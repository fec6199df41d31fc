-- A customer has at most one not-closed conversation with a bot (storage.ConversationStore).
-- Before this index, two replicas answering a new customer's first two messages at once
-- could each create one and split the customer's history between them; now the second
-- CreateConversation fails with a unique violation (EDUPLICATE) and its turn continues in
-- the first.
-- Rows that already break the rule are settled first: every not-closed conversation but
-- the newest of its (bot_id, customer_id) is closed. Newest is FindOpenConversation's
-- order, updated_at then id, so the conversation turns were continuing stays open.
-- updated_at is left as it was: the closed rows are history.
UPDATE conversations SET status = 'closed'
WHERE status <> 'closed' AND EXISTS (
	SELECT 1 FROM conversations n
	WHERE n.bot_id = conversations.bot_id AND n.customer_id = conversations.customer_id
		AND n.status <> 'closed'
		AND (n.updated_at > conversations.updated_at
			OR (n.updated_at = conversations.updated_at AND n.id > conversations.id)));
-- SQLite rewrites an index entry whenever a column it holds or its predicate reads is
-- assigned, even to the same value, so a turn assigns status only when it changes it
-- (updateConversationSQL), as it already did for customer_id: a normal turn writes no
-- entry of this index. The PostgreSQL migration of the same number makes the same change.
CREATE UNIQUE INDEX conversations_one_open ON conversations (bot_id, customer_id) WHERE status <> 'closed';
