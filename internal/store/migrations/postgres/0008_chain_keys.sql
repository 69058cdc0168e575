-- Which chain key the trail and the consent ledger go on under, by its id
-- (audit.KeyID). Every write checks it against its own key, so an
-- instance still running with an identity key that was rotated away fails
-- its writes instead of chaining them under the old key. The empty id
-- (databases from before) is taken by the first write. Verification does
-- not trust these columns: it follows the transition entries of the trail.
ALTER TABLE audit_head ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger_head ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
