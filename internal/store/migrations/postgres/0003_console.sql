-- Admin console: operator accounts, their sessions (token hashes only)
-- and second-operator approvals of batch exports and destructions.
CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- who last set the password: an admin's username, 'cli', 'system' or
    -- the operator's own username after a self-service change
    password_set_by TEXT NOT NULL DEFAULT '',
    failed_count  BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE operator_sessions (
    token_hash  BYTEA PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators(id),
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions(operator_id);

CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    params        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    state         TEXT NOT NULL,
    decided_by    TEXT,
    note          TEXT NOT NULL DEFAULT '',
    result        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    decided_at    BIGINT,
    executed_at   BIGINT,
    -- a destruction's run holds this lease while it erases; a run that
    -- stopped can be resumed once it has passed
    lease_until   BIGINT,
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE INDEX approvals_state ON approvals(state, created_at);
