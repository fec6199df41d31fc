-- Review before publish (retrieval/review): the latest review round of a knowledge
-- document, one row per document; the document's status (draft, in_review, published)
-- stays on documents. Migration 0012 belongs to another change.
CREATE TABLE document_reviews (
    document_id  TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    submitted_by TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    reviewed_by  TEXT NOT NULL DEFAULT '',
    reviewed_at  INTEGER,
    comment      TEXT NOT NULL DEFAULT ''
);
