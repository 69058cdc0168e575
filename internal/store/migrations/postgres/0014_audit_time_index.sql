-- The audit trail's time index leads with the time instead of the
-- organisation. Entries are written in time order whatever organisation
-- they belong to, so every commit adds to one end of the index; led by the
-- organisation, a commit carrying many organisations' entries (decision
-- records) rewrote a page of the index for each of them. A time filter
-- finds its first entry through this index (every organisation's entries
-- of the period, read from the index alone) and reads the trail in
-- sequence order from there.
DROP INDEX audit_log_at;
CREATE INDEX audit_log_at ON audit_log (at, org_id, seq);
