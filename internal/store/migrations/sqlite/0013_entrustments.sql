-- Organisations that work together. Affiliates of a group (the same
-- group_id) share the identity a person signs in with, each remaining the
-- controller of what it collects. An entrustment is a controller's
-- instruction to another organisation to process personal information on
-- its behalf (PIPL art. 21, GDPR art. 28): the deployment's records, not
-- either organisation's, as the registry is.
ALTER TABLE organisations ADD COLUMN group_id TEXT NOT NULL DEFAULT '';

-- A code for a request made here may be for an identity an affiliate or a
-- controller holds: the claimed identity's hashes under their keys are kept
-- with the code, sealed, until it is used.
ALTER TABLE otps ADD COLUMN linked BLOB;

CREATE TABLE entrustments (
    id              TEXT PRIMARY KEY,
    controller_org  TEXT NOT NULL REFERENCES organisations(id),
    processor_org   TEXT NOT NULL REFERENCES organisations(id),
    categories      TEXT NOT NULL,
    purposes        TEXT NOT NULL,
    instructions    TEXT NOT NULL,
    sub_processors  TEXT NOT NULL,
    assist_count    BIGINT NOT NULL,
    assist_unit     TEXT NOT NULL,
    starts_on       TEXT NOT NULL,
    ends_on         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    end_action      TEXT NOT NULL DEFAULT '',
    ended_at        BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX entrustments_processor ON entrustments (processor_org, state);
CREATE INDEX entrustments_controller ON entrustments (controller_org, state);

-- A processor's part in a controller's rights request: the request came to
-- the processor, went to the controller's queue, and the processor owes
-- the controller its assistance by due_date (from the entrustment).
CREATE TABLE assistance_tasks (
    org_id             TEXT NOT NULL REFERENCES organisations(id),
    id                 TEXT NOT NULL,
    entrustment_id     TEXT NOT NULL,
    controller_org     TEXT NOT NULL,
    controller_request TEXT NOT NULL,
    request_id         TEXT NOT NULL,
    kind               TEXT NOT NULL,
    due_date           TEXT NOT NULL,
    state              TEXT NOT NULL,
    note               TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    done_at            BIGINT,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX assistance_tasks_open ON assistance_tasks (org_id, state, due_date);

