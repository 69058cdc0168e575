-- Verification from a checkpoint starts the trail at the checkpoint's head
-- and needs the chain key in force there: the one the trail began under,
-- moved on by the key rotations (action key.rotate) up to the head. They
-- are a handful among millions of entries; this partial index holds only
-- them, so finding them costs nothing on a long trail and the index adds
-- no work to the writes of every other entry.
CREATE INDEX audit_log_rotations ON audit_log (org_id, seq) WHERE action = 'key.rotate';
