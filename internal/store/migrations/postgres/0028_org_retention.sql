-- Each organisation may keep the records Custos keeps for it for its own
-- periods (keep.Requests, keep.Trail), where its obligations differ from
-- the deployment's: '' is the deployment's setting (--request-retention,
-- --audit-retention).
ALTER TABLE organisations ADD COLUMN request_retention TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN audit_retention TEXT NOT NULL DEFAULT '';
