-- Legal holds as records: a court order, an authority's request or a
-- dispute that forbids erasing what its scope covers until it is lifted
-- (by two operators, through an approval) or expires. The scope's
-- subject id is the opaque id, never an identity; the authority's
-- reference is for operators only.
CREATE TABLE legal_holds (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    id          TEXT NOT NULL,
    subject_id  TEXT NOT NULL DEFAULT '',
    datastore   TEXT NOT NULL DEFAULT '',
    collection  TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    from_at     BIGINT,
    to_at       BIGINT,
    reason      TEXT NOT NULL,
    authority   TEXT NOT NULL,
    basis       TEXT NOT NULL DEFAULT '',
    placed_by   TEXT NOT NULL,
    placed_at   BIGINT NOT NULL,
    expires_at  BIGINT,
    lifted_at   BIGINT,
    lifted_by   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id)
);
CREATE INDEX legal_holds_open ON legal_holds (org_id, lifted_at, placed_at);
CREATE INDEX legal_holds_subject ON legal_holds (org_id, subject_id);
