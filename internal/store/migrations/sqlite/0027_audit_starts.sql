-- Audit retention: the trail of an organisation may be cut at a signed
-- checkpoint older than its retention period. audit_starts records where
-- the kept trail begins: the sequence number and hash of the last entry
-- cut, which the first kept entry names as the one before it, so the rest
-- still verifies from there (audit.Verifier.Resume). The trail's first
-- entry and its key rotations are never cut: they give the chain key in
-- force at the start. Entries are otherwise still never updated, and
-- deleted only up to the recorded start.
CREATE TABLE audit_starts (
    org_id TEXT NOT NULL PRIMARY KEY REFERENCES organisations(id),
    seq    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    at     INTEGER NOT NULL -- when the trail was last cut (unix microseconds)
);
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN OLD.seq = 1 OR OLD.action = 'key.rotate'
        OR NOT EXISTS (SELECT 1 FROM audit_starts WHERE org_id = OLD.org_id AND seq >= OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only before its recorded start'); END;
