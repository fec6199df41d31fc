-- Every turn updates its conversation's updated_at and state. While updated_at was in an
-- index no such update could be HOT: each added an entry to every index of the table and
-- left a dead row version that index scans (the turn's look-ups, the messages' foreign-key
-- checks, the primary key's uniqueness check) stepped over until vacuum came round. Now no
-- index holds a column a turn changes, and pages keep room for new versions, so a turn's
-- update stays on its page and writes no index entry.
-- A customer has few conversations with a bot: the open one is found by sorting them.
-- ListConversations (no request path uses it) sorts the matching rows without an index.
DROP INDEX conversations_updated;
DROP INDEX conversations_customer;
CREATE INDEX conversations_customer ON conversations (customer_id, bot_id);
ALTER TABLE conversations SET (fillfactor = 70);
