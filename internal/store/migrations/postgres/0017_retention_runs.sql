-- Retention sweeps of the organisation's own databases. A run in state
-- "running" holds the organisation's sweep while its lease lasts: the
-- partial unique index lets one run at a time hold it whatever the number
-- of instances, and a run whose holder stopped without finishing is
-- marked abandoned once its lease has passed. report is the run's counts
-- (rules, datastores, collections, rows per action, certificate ids),
-- never a value from the databases swept.
CREATE TABLE retention_runs (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    id          TEXT NOT NULL,
    instance    TEXT NOT NULL,
    state       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    finished_at BIGINT,
    report      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX retention_runs_one_running ON retention_runs (org_id) WHERE state = 'running';
CREATE INDEX retention_runs_started ON retention_runs (org_id, started_at);

ALTER TABLE retention_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY custos_org ON retention_runs USING (org_id = current_setting('custos.org', true))
    WITH CHECK (org_id = current_setting('custos.org', true));
