-- The host names an organisation's privacy center, banner, console and API
-- answer on. A host belongs to one organisation; a request on a host that
-- none claims is the default organisation's.
CREATE TABLE org_hosts (
    host   TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id)
);
CREATE INDEX org_hosts_org ON org_hosts (org_id);
