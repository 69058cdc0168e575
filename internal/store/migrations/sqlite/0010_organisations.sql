-- custos:foreign-keys=off
-- Organisations: a deployment holds one or more, and every row of an
-- organisation's data carries its id. What an earlier build stored belongs
-- to the organisation 'default'. Tables whose keys must now include the
-- organisation are rebuilt (SQLite cannot change a key in place); the
-- others gain the column. The migration runs with foreign keys off, as
-- SQLite's own procedure for rebuilding tables requires, and checks them
-- all before it commits.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO organisations (id, name, status, created_at, updated_at) VALUES ('default', '', 'active', 0, 0);

-- subjects: the application's own ids are unique within an organisation.
CREATE TABLE subjects_new (
    org_id       TEXT NOT NULL REFERENCES organisations(id),
    id           TEXT NOT NULL,
    birth_date   TEXT,
    age_band     TEXT,
    guardian_id  TEXT,
    restricted   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    arrangement  TEXT,
    erased_at    INTEGER,
    jurisdiction TEXT,
    language     TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, guardian_id) REFERENCES subjects(org_id, id)
);
INSERT INTO subjects_new (org_id, id, birth_date, age_band, guardian_id, restricted, created_at, updated_at, arrangement, erased_at, jurisdiction, language)
SELECT 'default', id, birth_date, age_band, guardian_id, restricted, created_at, updated_at, arrangement, erased_at, jurisdiction, language FROM subjects;

CREATE TABLE identities_new (
    org_id      TEXT NOT NULL,
    hash        BLOB NOT NULL,
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    sealed      BLOB,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, hash),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id) ON DELETE CASCADE
);
INSERT INTO identities_new (org_id, hash, kind, subject_id, sealed, created_at)
SELECT 'default', hash, kind, subject_id, sealed, created_at FROM identities;

CREATE TABLE policy_versions_new (
    org_id          TEXT NOT NULL REFERENCES organisations(id),
    seq             INTEGER NOT NULL,
    version         TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    manifest        TEXT NOT NULL,
    published_at    INTEGER NOT NULL,
    material        INTEGER NOT NULL,
    reconsent       TEXT NOT NULL,
    diff            TEXT NOT NULL,
    effective_at    BIGINT NOT NULL DEFAULT 0,
    accept          TEXT NOT NULL DEFAULT '[]',
    notices_pending INTEGER NOT NULL DEFAULT 0,
    notices_cursor  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, seq),
    UNIQUE (org_id, version)
);
INSERT INTO policy_versions_new (org_id, seq, version, sha256, manifest, published_at, material, reconsent, diff, effective_at, accept, notices_pending, notices_cursor)
SELECT 'default', seq, version, sha256, manifest, published_at, material, reconsent, diff, effective_at, accept, notices_pending, notices_cursor FROM policy_versions;

-- consent_events: each organisation's ledger is a chain of its own.
CREATE TABLE consent_events_new (
    org_id       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    id           TEXT NOT NULL UNIQUE,
    subject_id   TEXT NOT NULL,
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
    at           INTEGER NOT NULL,
    prev_hash    BLOB,
    hash         BLOB,
    PRIMARY KEY (org_id, seq),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id)
);
INSERT INTO consent_events_new (org_id, seq, id, subject_id, purpose, action, version_seq, method, language, notice_hash, separate, guardian_id, signal, evidence, actor, at, prev_hash, hash)
SELECT 'default', seq, id, subject_id, purpose, action, version_seq, method, language, notice_hash, separate, guardian_id, signal, evidence, actor, at, prev_hash, hash FROM consent_events;

CREATE TABLE consent_state_new (
    org_id       TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    granted      INTEGER NOT NULL,
    by_guardian  INTEGER NOT NULL,
    version_seq  INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    action       TEXT NOT NULL DEFAULT 'grant',
    PRIMARY KEY (org_id, subject_id, purpose),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id)
);
INSERT INTO consent_state_new (org_id, subject_id, purpose, granted, by_guardian, version_seq, event_id, action)
SELECT 'default', subject_id, purpose, granted, by_guardian, version_seq, event_id, action FROM consent_state;

-- audit_log: each organisation's trail is a chain of its own.
CREATE TABLE audit_log_new (
    org_id    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
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
    hash      BLOB NOT NULL,
    PRIMARY KEY (org_id, seq)
);
INSERT INTO audit_log_new (org_id, seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash)
SELECT 'default', seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash FROM audit_log;

CREATE TABLE audit_head_new (
    org_id TEXT NOT NULL PRIMARY KEY REFERENCES organisations(id),
    seq    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    key_id TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_head_new (org_id, seq, hash, key_id) SELECT 'default', seq, hash, key_id FROM audit_head;

CREATE TABLE ledger_head_new (
    org_id    TEXT NOT NULL PRIMARY KEY REFERENCES organisations(id),
    start_seq INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    key_id    TEXT NOT NULL DEFAULT ''
);
INSERT INTO ledger_head_new (org_id, start_seq, seq, hash, key_id) SELECT 'default', start_seq, seq, hash, key_id FROM ledger_head;

-- operators: a user name is unique within an organisation.
CREATE TABLE operators_new (
    org_id          TEXT NOT NULL REFERENCES organisations(id),
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    password_set_by TEXT NOT NULL DEFAULT '',
    failed_count    INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (org_id, username)
);
INSERT INTO operators_new (org_id, id, username, display_name, role, password_hash, password_set_by, failed_count, locked_until, disabled, created_at, updated_at)
SELECT 'default', id, username, display_name, role, password_hash, password_set_by, failed_count, locked_until, disabled, created_at, updated_at FROM operators;

CREATE TABLE vault_values_new (
    org_id      TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    field       TEXT NOT NULL,
    sealed      BLOB NOT NULL,
    token       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, subject_id, field),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id) ON DELETE CASCADE
);
INSERT INTO vault_values_new (org_id, subject_id, field, sealed, token, updated_at)
SELECT 'default', subject_id, field, sealed, token, updated_at FROM vault_values;

DROP TABLE vault_values;
DROP TABLE identities;
DROP TABLE consent_state;
DROP TABLE consent_events;
DROP TABLE subjects;
DROP TABLE policy_versions;
DROP TABLE audit_log;
DROP TABLE audit_head;
DROP TABLE ledger_head;
DROP TABLE operators;

ALTER TABLE subjects_new RENAME TO subjects;
ALTER TABLE identities_new RENAME TO identities;
ALTER TABLE policy_versions_new RENAME TO policy_versions;
ALTER TABLE consent_events_new RENAME TO consent_events;
ALTER TABLE consent_state_new RENAME TO consent_state;
ALTER TABLE audit_log_new RENAME TO audit_log;
ALTER TABLE audit_head_new RENAME TO audit_head;
ALTER TABLE ledger_head_new RENAME TO ledger_head;
ALTER TABLE operators_new RENAME TO operators;
ALTER TABLE vault_values_new RENAME TO vault_values;

CREATE INDEX identities_subject ON identities (org_id, subject_id);
CREATE INDEX consent_events_subject ON consent_events (org_id, subject_id, seq);
CREATE INDEX audit_log_at ON audit_log (org_id, at);
CREATE INDEX vault_values_expiry ON vault_values (org_id, field, updated_at);

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER consent_state_no_delete BEFORE DELETE ON consent_state
BEGIN SELECT RAISE(ABORT, 'consent_state rows are never deleted'); END;

-- The tables keyed by generated ids gain the column; their lookups and
-- scans lead with it.
ALTER TABLE api_keys ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default' REFERENCES organisations(id);
ALTER TABLE requests ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default' REFERENCES organisations(id);
ALTER TABLE request_events ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE otps ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE outbox ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE bundles ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE recipient_tasks ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE operator_sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE approvals ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default' REFERENCES organisations(id);
ALTER TABLE center_signins ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default';

DROP INDEX requests_subject;
DROP INDEX requests_open;
DROP INDEX approvals_state;
DROP INDEX outbox_due;
CREATE INDEX requests_subject ON requests (org_id, subject_id, kind, received_at);
CREATE INDEX requests_open ON requests (org_id, state, due_date);
CREATE INDEX approvals_state ON approvals (org_id, state, created_at);
CREATE INDEX outbox_due ON outbox (org_id, status, next_at);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);
