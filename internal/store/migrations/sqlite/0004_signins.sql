-- Privacy-center sign-ins waiting for their one-time code, shared by every
-- instance on the database. subject_id is NULL for an identity not on
-- file: such a sign-in fails like a wrong code.
CREATE TABLE center_signins (
    id         TEXT PRIMARY KEY,
    subject_id TEXT,
    code_hash  BLOB NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX center_signins_expires ON center_signins (expires_at);
CREATE INDEX center_signins_subject ON center_signins (subject_id);
