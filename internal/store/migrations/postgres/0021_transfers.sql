-- People whose personal information was provided abroad, counted once per
-- calendar year (China time) per transfer flow, for the thresholds of the
-- CAC Provisions on Promoting and Regulating Cross-Border Data Flows
-- (2024). person is a keyed hash of the subject id and the year under a
-- key of the organisation's own, never the subject id: the table proves a
-- count, not who was counted. The primary key does the dedupe. sensitive
-- and ordinary say whether the flow carried sensitive and other personal
-- information when the person was first counted.
CREATE TABLE transfer_people (
    org_id    TEXT NOT NULL REFERENCES organisations(id),
    year      INTEGER NOT NULL,
    flow      TEXT NOT NULL,
    person    TEXT NOT NULL,
    sensitive INTEGER NOT NULL DEFAULT 0,
    ordinary  INTEGER NOT NULL DEFAULT 0,
    source    TEXT NOT NULL,
    first_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, year, flow, person)
);

-- Threshold alerts sent, so that each goes out once per year: level is
-- the threshold's name, kind projected (before crossing) or crossed.
CREATE TABLE transfer_alerts (
    org_id  TEXT NOT NULL REFERENCES organisations(id),
    year    INTEGER NOT NULL,
    level   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    people  BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, year, level, kind)
);

ALTER TABLE transfer_people ENABLE ROW LEVEL SECURITY;
ALTER TABLE transfer_people FORCE ROW LEVEL SECURITY;
CREATE POLICY custos_org ON transfer_people USING (org_id = current_setting('custos.org', true))
    WITH CHECK (org_id = current_setting('custos.org', true));
ALTER TABLE transfer_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE transfer_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY custos_org ON transfer_alerts USING (org_id = current_setting('custos.org', true))
    WITH CHECK (org_id = current_setting('custos.org', true));
