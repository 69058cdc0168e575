-- Custos schema, SQLite dialect. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    hash        BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE subjects (
    id          TEXT PRIMARY KEY,
    birth_date  TEXT,
    age_band    TEXT,
    guardian_id TEXT REFERENCES subjects(id),
    restricted  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE identities (
    hash        BLOB PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    sealed      BLOB,
    created_at  INTEGER NOT NULL
);
CREATE INDEX identities_subject ON identities(subject_id);

CREATE TABLE policy_versions (
    seq          INTEGER PRIMARY KEY,
    version      TEXT NOT NULL UNIQUE,
    sha256       TEXT NOT NULL,
    manifest     TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    material     INTEGER NOT NULL,
    reconsent    TEXT NOT NULL,
    diff         TEXT NOT NULL
);

CREATE TABLE consent_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    subject_id   TEXT NOT NULL REFERENCES subjects(id),
    purpose      TEXT NOT NULL,
    action       TEXT NOT NULL,
    version_seq  INTEGER NOT NULL,
    method       TEXT NOT NULL,
    language     TEXT NOT NULL,
    notice_hash  TEXT NOT NULL,
    separate     INTEGER NOT NULL,
    guardian_id  TEXT,
    signal       TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events(subject_id, seq);

CREATE TABLE consent_state (
    subject_id   TEXT NOT NULL REFERENCES subjects(id),
    purpose      TEXT NOT NULL,
    granted      INTEGER NOT NULL,
    by_guardian  INTEGER NOT NULL,
    version_seq  INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    PRIMARY KEY (subject_id, purpose)
);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    place     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);

-- The head of the audit chain: the last entry written. Verification compares
-- the trail with it, so entries removed from the end are detected.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

-- The ledger and the trail are append-only.
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
