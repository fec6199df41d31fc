-- Tandem schema for SQLite. Times are Unix microseconds (UTC); JSON columns are TEXT.

CREATE TABLE customers (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    profile      TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE identities (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    verified    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    bot_id      TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    state       BLOB,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX conversations_customer ON conversations (customer_id, bot_id);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY, -- rowid: insertion order
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    text            TEXT NOT NULL,
    provider_id     TEXT NOT NULL DEFAULT '',
    author_id       TEXT NOT NULL DEFAULT '',
    annotations     TEXT,
    decision        TEXT,
    citations       TEXT,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_provider ON messages (channel, provider_id) WHERE provider_id <> '';
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, seq);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL,
    skills     TEXT NOT NULL DEFAULT '[]',
    languages  TEXT NOT NULL DEFAULT '[]',
    capacity   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX agents_email ON agents (lower(email));

CREATE TABLE tickets (
    seq             INTEGER PRIMARY KEY, -- rowid: insertion order
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    bot_id          TEXT NOT NULL,
    queue           TEXT NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    agent_id        TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    claimed_at      INTEGER,
    closed_at       INTEGER
);
CREATE UNIQUE INDEX tickets_one_active ON tickets (conversation_id) WHERE status IN ('queued', 'claimed');
CREATE INDEX tickets_queue ON tickets (status, queue, created_at);

CREATE TABLE collections (
    name       TEXT PRIMARY KEY,
    bot_id     TEXT NOT NULL DEFAULT '',
    embedder   TEXT NOT NULL DEFAULT '',
    dimension  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    collection   TEXT NOT NULL REFERENCES collections (name),
    title        TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',
    language     TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    body         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX documents_collection ON documents (collection, status);

CREATE TABLE chunks (
    seq         INTEGER PRIMARY KEY, -- rowid, also the FTS rowid
    id          TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    collection  TEXT NOT NULL,
    ordinal     INTEGER NOT NULL,
    heading     TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL,
    embedding   BLOB,
    dimension   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chunks_document ON chunks (document_id, ordinal);
CREATE INDEX chunks_collection ON chunks (collection);

-- rowid = chunks.seq
CREATE VIRTUAL TABLE chunks_fts USING fts5 (title, heading, text, tokenize = 'porter unicode61');

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_subject ON audit_log (subject, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
