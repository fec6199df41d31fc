-- Every turn updates its conversation's updated_at, so an index on it was rewritten on every
-- turn. ListConversations (no request path uses it) sorts the matching rows without one. The
-- PostgreSQL migration of the same number makes the same change (there it keeps turn
-- updates HOT).
DROP INDEX IF EXISTS conversations_updated;
