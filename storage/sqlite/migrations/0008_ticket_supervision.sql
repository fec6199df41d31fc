-- Supervision of handoffs: a ticket's customer language (routing) and its escalation to
-- supervisors (tandem.Ticket.Language, EscalatedAt, Escalation). The escalation worker
-- looks for a bot's queued tickets not escalated yet, oldest first: tickets_waiting.
ALTER TABLE tickets ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN escalated_at INTEGER;
ALTER TABLE tickets ADD COLUMN escalation TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_waiting ON tickets (bot_id, created_at) WHERE status = 'queued' AND escalated_at IS NULL;
