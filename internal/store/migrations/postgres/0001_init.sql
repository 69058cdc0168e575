-- Custos schema, PostgreSQL dialect. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    hash        BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE subjects (
    id          TEXT PRIMARY KEY,
    birth_date  TEXT,
    age_band    TEXT,
    guardian_id TEXT REFERENCES subjects(id),
    restricted  INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE identities (
    hash        BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    sealed      BYTEA,
    created_at  BIGINT NOT NULL
);
CREATE INDEX identities_subject ON identities(subject_id);

CREATE TABLE policy_versions (
    seq          BIGINT PRIMARY KEY,
    version      TEXT NOT NULL UNIQUE,
    sha256       TEXT NOT NULL,
    manifest     TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    material     INTEGER NOT NULL,
    reconsent    TEXT NOT NULL,
    diff         TEXT NOT NULL
);

CREATE TABLE consent_events (
    seq          BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    subject_id   TEXT NOT NULL REFERENCES subjects(id),
    purpose      TEXT NOT NULL,
    action       TEXT NOT NULL,
    version_seq  BIGINT NOT NULL,
    method       TEXT NOT NULL,
    language     TEXT NOT NULL,
    notice_hash  TEXT NOT NULL,
    separate     INTEGER NOT NULL,
    guardian_id  TEXT,
    signal       TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events(subject_id, seq);

CREATE TABLE consent_state (
    subject_id   TEXT NOT NULL REFERENCES subjects(id),
    purpose      TEXT NOT NULL,
    granted      INTEGER NOT NULL,
    by_guardian  INTEGER NOT NULL,
    version_seq  BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    PRIMARY KEY (subject_id, purpose)
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    place     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);

-- The head of the audit chain: the last entry written. Writers lock this row,
-- which orders every instance's appends; verification compares the trail with
-- it, so entries removed from the end are detected.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- The ledger and the trail are append-only.
CREATE FUNCTION custos_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION custos_append_only();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION custos_append_only();
