-- Signed erasure certificates: what a retention sweep or a rights
-- request's erasure changed, collection by collection (internal/certificate).
-- The body is the signed certificate as JSON; it names datastores,
-- collections and fields and counts rows, and holds no personal data by
-- construction, so it is kept in clear and may be handed to anyone. The
-- other columns repeat the body's, to find certificates by request, rule
-- and time.
CREATE TABLE erasure_certificates (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    request_id  TEXT NOT NULL DEFAULT '',
    rule        TEXT NOT NULL DEFAULT '',
    issued_at   BIGINT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX erasure_certificates_request ON erasure_certificates (org_id, request_id);
CREATE INDEX erasure_certificates_issued ON erasure_certificates (org_id, issued_at, id);
