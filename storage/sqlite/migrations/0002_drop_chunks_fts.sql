-- Full-text search runs on an in-memory index built from chunks and documents; the FTS5
-- table is no longer written or read.
DROP TABLE IF EXISTS chunks_fts;
