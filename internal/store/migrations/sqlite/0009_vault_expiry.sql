-- The vault's retention sweep deletes one field's values written before a
-- cutoff, a batch at a time: without this index each batch reads the whole
-- table.
CREATE INDEX vault_values_expiry ON vault_values (field, updated_at);
