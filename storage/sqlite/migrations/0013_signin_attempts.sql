-- Staff sign-in limits (storage.SignInStore): one row per key ("email:…", "client:…")
-- holding when its token bucket is full again (unix microseconds). A row whose time has
-- passed means the same as no row; writers delete such rows, found by signin_attempts_full.
CREATE TABLE signin_attempts (
    key     TEXT PRIMARY KEY,
    full_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX signin_attempts_full ON signin_attempts (full_at);
