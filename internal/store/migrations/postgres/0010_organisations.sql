-- Organisations: a deployment holds one or more, and every row of an
-- organisation's data carries its id. What an earlier build stored belongs
-- to the organisation 'default'. Keys that were unique in the deployment
-- become unique within an organisation, and each organisation's consent
-- ledger and audit trail is a chain of its own. The column has no default
-- once the existing rows are filled: a write that does not say whose row
-- it is fails.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO organisations (id, name, status, created_at, updated_at) VALUES ('default', '', 'active', 0, 0);

ALTER TABLE subjects DROP CONSTRAINT subjects_guardian_id_fkey;
ALTER TABLE identities DROP CONSTRAINT identities_subject_id_fkey;
ALTER TABLE consent_events DROP CONSTRAINT consent_events_subject_id_fkey;
ALTER TABLE consent_state DROP CONSTRAINT consent_state_subject_id_fkey;
ALTER TABLE vault_values DROP CONSTRAINT vault_values_subject_id_fkey;

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_keys', 'subjects', 'identities', 'policy_versions', 'consent_events',
        'consent_state', 'audit_log', 'requests', 'request_events', 'otps', 'outbox', 'bundles',
        'recipient_tasks', 'operators', 'operator_sessions', 'approvals', 'center_signins', 'vault_values']
    LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN org_id TEXT NOT NULL DEFAULT %L', t, 'default');
        EXECUTE format('ALTER TABLE %I ALTER COLUMN org_id DROP DEFAULT', t);
    END LOOP;
END $$;

ALTER TABLE subjects DROP CONSTRAINT subjects_pkey, ADD PRIMARY KEY (org_id, id),
    ADD FOREIGN KEY (org_id) REFERENCES organisations(id);
ALTER TABLE subjects ADD FOREIGN KEY (org_id, guardian_id) REFERENCES subjects(org_id, id);
ALTER TABLE identities DROP CONSTRAINT identities_pkey, ADD PRIMARY KEY (org_id, hash),
    ADD FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id) ON DELETE CASCADE;
ALTER TABLE policy_versions DROP CONSTRAINT policy_versions_pkey, DROP CONSTRAINT policy_versions_version_key,
    ADD PRIMARY KEY (org_id, seq), ADD UNIQUE (org_id, version),
    ADD FOREIGN KEY (org_id) REFERENCES organisations(id);
ALTER TABLE consent_events DROP CONSTRAINT consent_events_pkey, ADD PRIMARY KEY (org_id, seq),
    ADD FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id);
ALTER TABLE consent_state DROP CONSTRAINT consent_state_pkey, ADD PRIMARY KEY (org_id, subject_id, purpose),
    ADD FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey, ADD PRIMARY KEY (org_id, seq);
ALTER TABLE vault_values DROP CONSTRAINT vault_values_pkey, ADD PRIMARY KEY (org_id, subject_id, field),
    ADD FOREIGN KEY (org_id, subject_id) REFERENCES subjects(org_id, id) ON DELETE CASCADE;
ALTER TABLE operators DROP CONSTRAINT operators_username_key, ADD UNIQUE (org_id, username),
    ADD FOREIGN KEY (org_id) REFERENCES organisations(id);
ALTER TABLE api_keys ADD FOREIGN KEY (org_id) REFERENCES organisations(id);
ALTER TABLE requests ADD FOREIGN KEY (org_id) REFERENCES organisations(id);
ALTER TABLE approvals ADD FOREIGN KEY (org_id) REFERENCES organisations(id);

-- One head per organisation for each chain.
ALTER TABLE audit_head ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default' REFERENCES organisations(id);
ALTER TABLE audit_head ALTER COLUMN org_id DROP DEFAULT;
ALTER TABLE audit_head DROP CONSTRAINT audit_head_pkey, DROP COLUMN id, ADD PRIMARY KEY (org_id);
ALTER TABLE ledger_head ADD COLUMN org_id TEXT NOT NULL DEFAULT 'default' REFERENCES organisations(id);
ALTER TABLE ledger_head ALTER COLUMN org_id DROP DEFAULT;
ALTER TABLE ledger_head DROP CONSTRAINT ledger_head_pkey, DROP COLUMN id, ADD PRIMARY KEY (org_id);

DROP INDEX identities_subject;
DROP INDEX consent_events_subject;
DROP INDEX audit_log_at;
DROP INDEX vault_values_expiry;
DROP INDEX requests_subject;
DROP INDEX requests_open;
DROP INDEX approvals_state;
DROP INDEX outbox_due;
CREATE INDEX identities_subject ON identities (org_id, subject_id);
CREATE INDEX consent_events_subject ON consent_events (org_id, subject_id, seq);
CREATE INDEX audit_log_at ON audit_log (org_id, at);
CREATE INDEX vault_values_expiry ON vault_values (org_id, field, updated_at);
CREATE INDEX requests_subject ON requests (org_id, subject_id, kind, received_at);
CREATE INDEX requests_open ON requests (org_id, state, due_date);
CREATE INDEX approvals_state ON approvals (org_id, state, created_at);
CREATE INDEX outbox_due ON outbox (org_id, status, next_at);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);
