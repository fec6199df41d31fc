-- Review before publish (retrieval/review): the latest review round of a knowledge
-- document, one row per document; the document's status (draft, in_review, published)
-- stays on documents. Migration 0012 belongs to another change.
CREATE TABLE document_reviews (
    document_id  text PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    submitted_by text NOT NULL,
    submitted_at timestamptz NOT NULL,
    reviewed_by  text NOT NULL DEFAULT '',
    reviewed_at  timestamptz,
    comment      text NOT NULL DEFAULT ''
);
