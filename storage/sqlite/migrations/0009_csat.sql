-- Customers' ratings of closed handoff tickets (CSAT surveys): one per ticket, so a resent
-- answer is dropped (storage.TurnRecord.CSAT). Migration 0008 belongs to another change.
CREATE TABLE csat_responses (
    ticket_id       TEXT PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    bot_id          TEXT NOT NULL,
    queue           TEXT NOT NULL,
    agent_id        TEXT NOT NULL DEFAULT '',
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    at              INTEGER NOT NULL
);
CREATE INDEX csat_responses_at ON csat_responses (at);
-- The supervisors' dashboard (storage.ReportStore) counts rows of a period: audit entries
-- of one action (unanswered questions), tickets opened, claimed and closed, conversations
-- started.
CREATE INDEX audit_action ON audit_log (action, at);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_claimed ON tickets (claimed_at) WHERE claimed_at IS NOT NULL;
CREATE INDEX tickets_closed ON tickets (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX conversations_created ON conversations (created_at);
