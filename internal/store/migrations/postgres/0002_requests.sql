-- Data-subject requests, their history, one-time codes, the outbox,
-- export bundles and recipient notification tasks.
CREATE TABLE requests (
    id               TEXT PRIMARY KEY,
    subject_id       TEXT,
    kind             TEXT NOT NULL,
    jurisdiction     TEXT NOT NULL,
    state            TEXT NOT NULL,
    channel          TEXT NOT NULL,
    language         TEXT NOT NULL,
    details          BYTEA,
    access_hash      BYTEA,
    received_at      BIGINT NOT NULL,
    received_date    TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    due_provisional  BIGINT NOT NULL,
    calendar_version TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    extended         BIGINT NOT NULL DEFAULT 0,
    paused_since     BIGINT,
    paused_days      BIGINT NOT NULL DEFAULT 0,
    flags            TEXT NOT NULL,
    duplicate_of     TEXT,
    refusal_ground   TEXT NOT NULL DEFAULT '',
    explanation      TEXT NOT NULL DEFAULT '',
    effective_at     BIGINT,
    updated_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL
);
CREATE INDEX requests_subject ON requests(subject_id, kind, received_at);
CREATE INDEX requests_open ON requests(state, due_date);

CREATE TABLE request_events (
    seq        BIGSERIAL PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, seq);

CREATE TABLE otps (
    request_id    TEXT PRIMARY KEY REFERENCES requests(id),
    identity_hash BYTEA,
    code_hash     BYTEA NOT NULL,
    expires_at    BIGINT NOT NULL,
    attempts      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE outbox (
    id         TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    to_sealed  BYTEA NOT NULL,
    template   TEXT NOT NULL,
    language   TEXT NOT NULL,
    data       TEXT NOT NULL,
    attempts   BIGINT NOT NULL,
    next_at    BIGINT NOT NULL,
    status     TEXT NOT NULL,
    last_error TEXT NOT NULL,
    sent_at    BIGINT,
    subject_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox(status, next_at);

CREATE TABLE bundles (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    subject_id TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    downloads  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recipient_tasks (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    recipient  TEXT NOT NULL,
    action     TEXT NOT NULL,
    method     TEXT NOT NULL,
    categories TEXT NOT NULL,
    state      TEXT NOT NULL,
    attempts   BIGINT NOT NULL,
    next_at    BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX recipient_tasks_request ON recipient_tasks(request_id);

-- An erased subject keeps its row (the ledger refers to it) without any
-- personal attribute; erased_at says when.
-- What a person arranged for their information after death (PIPL art. 49).
ALTER TABLE subjects ADD COLUMN arrangement TEXT;
ALTER TABLE subjects ADD COLUMN erased_at BIGINT;
