-- The consent ledger becomes a hash chain, as the audit trail is: each
-- event carries the hash of the one before it and a hash of its own
-- content (keyed with the audit chain key, computed by the writer), and
-- ledger_head records the last event chained. Writers reach it only
-- under the audit head's lock, so every instance chains in commit order.
-- Verification walks the chain, recomputes the current state
-- (consent_state, which decisions read) from the ledger and compares the two.
--
-- Events already in the ledger cannot be hashed here: the key is not in
-- the database. The chain starts after them: start_seq is the last event
-- recorded before this migration, and the first event written after it
-- links to a start hash derived from start_seq, so the start cannot be
-- moved unnoticed. Earlier events keep NULL hashes; verification counts
-- them and checks them against the current state only.
ALTER TABLE consent_events ADD COLUMN prev_hash BYTEA;
ALTER TABLE consent_events ADD COLUMN hash BYTEA;

-- hash is empty until the first chained event: the start hash stands for it.
CREATE TABLE ledger_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    start_seq BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    hash      BYTEA NOT NULL
);
INSERT INTO ledger_head (id, start_seq, seq, hash)
SELECT 1, COALESCE(MAX(seq), 0), COALESCE(MAX(seq), 0), '\x'::bytea FROM consent_events;

-- The current state is updated in place but never loses a row.
CREATE FUNCTION custos_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME;
END $$;
CREATE TRIGGER consent_state_no_delete BEFORE DELETE ON consent_state
    FOR EACH ROW EXECUTE FUNCTION custos_no_delete();
