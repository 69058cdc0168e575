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
    seq    BIGINT NOT NULL,
    hash   BYTEA NOT NULL,
    at     BIGINT NOT NULL -- when the trail was last cut (unix microseconds)
);
ALTER TABLE audit_starts ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_starts FORCE ROW LEVEL SECURITY;
CREATE POLICY custos_org ON audit_starts USING (org_id = current_setting('custos.org', true))
    WITH CHECK (org_id = current_setting('custos.org', true));

CREATE FUNCTION custos_audit_cut() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seq > 1 AND OLD.action <> 'key.rotate' AND EXISTS
        (SELECT 1 FROM audit_starts s WHERE s.org_id = OLD.org_id AND s.seq >= OLD.seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only before its recorded start';
END $$;
DROP TRIGGER audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION custos_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION custos_audit_cut();
