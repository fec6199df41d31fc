-- Staff sign-in limits (storage.SignInStore), shared by every replica: one row per key
-- ("email:…", "client:…") holding when its token bucket is full again. A row whose time
-- has passed means the same as no row; writers delete such rows, found by signin_attempts_full.
CREATE TABLE signin_attempts (
    key     text PRIMARY KEY,
    full_at timestamptz NOT NULL
);
CREATE INDEX signin_attempts_full ON signin_attempts (full_at);
