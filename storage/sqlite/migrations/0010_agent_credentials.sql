-- Staff accounts (web/staff): an agent's password hash (an encoded argon2id string, '' until
-- the agent sets one), when it last changed, and a session epoch that sessions carry and
-- that a password change or a sign-out bumps, ending every session issued before.
-- Migrations 0008 and 0009 belong to other changes.
ALTER TABLE agents ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN password_changed_at INTEGER;
ALTER TABLE agents ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
