-- Transmissions of a portability export to the third party the person
-- named (GDPR art. 20(2)), tried until the receiver takes it or refuses.
-- sealed is the endpoint and the export, sealed under the person's key as
-- export bundles are, and emptied once the transmission is settled; host
-- is the endpoint's host alone, never its path or query, which may carry
-- a token. recipient is the name the person gave the third party.
CREATE TABLE transmissions (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    id          TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    host        TEXT NOT NULL,
    sealed      BYTEA,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX transmissions_request ON transmissions (org_id, request_id);
CREATE INDEX transmissions_due ON transmissions (org_id, state, next_at);

ALTER TABLE transmissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE transmissions FORCE ROW LEVEL SECURITY;
CREATE POLICY custos_org ON transmissions USING (org_id = current_setting('custos.org', true))
    WITH CHECK (org_id = current_setting('custos.org', true));
