-- Every instance follows the state changes other instances make to each
-- organisation it serves. Asking each organisation's trail on every tick
-- costs a query per organisation; change_heads keeps, per organisation,
-- the sequence number of its last change (what ChangesSince reads), so
-- that one query over this small table tells which organisations have
-- changes to read. It holds sequence numbers only, no organisation's
-- data. Audit entries are never updated or deleted, so heads only grow;
-- an organisation without a row has had no change since this migration
-- (each instance starts from the trail's head).
CREATE TABLE change_heads (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    seq    INTEGER NOT NULL
);
CREATE TRIGGER audit_log_change_head AFTER INSERT ON audit_log
    WHEN NEW.action NOT LIKE 'check.%' AND NEW.action NOT LIKE 'vault.%'
BEGIN
    INSERT INTO change_heads (org_id, seq) VALUES (NEW.org_id, NEW.seq)
        ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > change_heads.seq;
END;
