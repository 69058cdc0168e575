-- Security incidents as records, with the clocks the law runs from their
-- discovery. record is the incident as its domain keeps it (JSON: the
-- facts, the assessment, the timeline); it names categories, datastores
-- and counts, never a person. The affected subjects are kept by their
-- opaque id with the notice queued to each; the escalations sent, one row
-- per clock and stage, so that none is sent twice, across restarts too.
CREATE TABLE incidents (
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    id            TEXT NOT NULL,
    state         TEXT NOT NULL,
    discovered_at BIGINT NOT NULL,
    record        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX incidents_discovered ON incidents (org_id, discovered_at);
CREATE INDEX incidents_state ON incidents (org_id, state);

CREATE TABLE incident_subjects (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    incident_id TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    delivery_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, incident_id, subject_id)
);

CREATE TABLE incident_escalations (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    incident_id TEXT NOT NULL,
    clock       TEXT NOT NULL,
    stage       TEXT NOT NULL,
    deliveries  INTEGER NOT NULL,
    sent_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, incident_id, clock, stage)
);
