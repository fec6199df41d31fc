-- Tandem schema for PostgreSQL + pgvector. The vector extension is created by Open before
-- migrations run (it may live in another schema on the search_path).

CREATE TABLE customers (
    id           text PRIMARY KEY,
    display_name text NOT NULL DEFAULT '',
    profile      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE identities (
    id          text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES customers (id),
    channel     text NOT NULL,
    external_id text NOT NULL,
    verified    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE conversations (
    id          text PRIMARY KEY,
    bot_id      text NOT NULL,
    customer_id text NOT NULL REFERENCES customers (id),
    channel     text NOT NULL,
    status      text NOT NULL,
    state       bytea,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX conversations_customer ON conversations (customer_id, bot_id, updated_at);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE messages (
    id              text PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            text NOT NULL,
    channel         text NOT NULL,
    text            text NOT NULL,
    provider_id     text NOT NULL DEFAULT '',
    author_id       text NOT NULL DEFAULT '',
    annotations     jsonb,
    decision        jsonb,
    citations       jsonb,
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX messages_provider ON messages (channel, provider_id) WHERE provider_id <> '';
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, seq);

CREATE TABLE agents (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    email      text NOT NULL,
    role       text NOT NULL,
    skills     text[] NOT NULL DEFAULT '{}',
    languages  text[] NOT NULL DEFAULT '{}',
    capacity   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX agents_email ON agents (lower(email));

CREATE TABLE tickets (
    id              text PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    bot_id          text NOT NULL,
    queue           text NOT NULL,
    priority        integer NOT NULL DEFAULT 0,
    reason          text NOT NULL DEFAULT '',
    status          text NOT NULL,
    agent_id        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    claimed_at      timestamptz,
    closed_at       timestamptz
);
CREATE UNIQUE INDEX tickets_one_active ON tickets (conversation_id) WHERE status IN ('queued', 'claimed');
CREATE INDEX tickets_queue ON tickets (status, queue, created_at);

CREATE TABLE collections (
    name       text PRIMARY KEY,
    bot_id     text NOT NULL DEFAULT '',
    embedder   text NOT NULL DEFAULT '',
    dimension  integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);

CREATE TABLE documents (
    id           text PRIMARY KEY,
    collection   text NOT NULL REFERENCES collections (name),
    title        text NOT NULL,
    source       text NOT NULL DEFAULT '',
    url          text NOT NULL DEFAULT '',
    tags         text[] NOT NULL DEFAULT '{}',
    language     text NOT NULL DEFAULT '',
    version      integer NOT NULL,
    content_hash text NOT NULL DEFAULT '',
    status       text NOT NULL,
    body         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX documents_collection ON documents (collection, status);

-- embedding has no fixed dimension; per-dimension HNSW indexes on
-- (embedding::vector(D)) WHERE dimension = D are created by EnsureCollection.
CREATE TABLE chunks (
    id          text PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    collection  text NOT NULL,
    ordinal     integer NOT NULL,
    heading     text NOT NULL DEFAULT '',
    text        text NOT NULL,
    embedding   vector,
    dimension   integer NOT NULL DEFAULT 0,
    tsv         tsvector NOT NULL
);
CREATE INDEX chunks_document ON chunks (document_id, ordinal);
CREATE INDEX chunks_collection ON chunks (collection);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);

CREATE TABLE audit_log (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_subject ON audit_log (subject, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- tandem_assert_found lets a pipelined batch (one implicit transaction) abort with
-- no_data_found when a row it updates does not exist.
CREATE FUNCTION tandem_assert_found(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION '% not found', what USING ERRCODE = 'no_data_found';
    END IF;
END $$;
