-- Every instance polls each organisation's trail for the state changes
-- other instances made (ChangesSince). Decision records and the vault's
-- entries are most of a busy trail and change nothing an instance keeps;
-- this partial index holds only the other entries, so a poll reads the
-- changes alone instead of every decision recorded since the last one,
-- and a decision record adds no work to it.
CREATE INDEX audit_log_changes ON audit_log (org_id, seq) WHERE action NOT LIKE 'check.%' AND action NOT LIKE 'vault.%';
