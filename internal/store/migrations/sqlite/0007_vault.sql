-- The vault: values of the fields the manifest declares under vault, each
-- sealed under its subject's own key (keystore.Subject), so that erasure,
-- which destroys the key, leaves no copy readable, not even in a backup.
-- token is a keyed hash of the field and the normalised value: the same
-- value gives the same token, for joins without the value. Erasure deletes
-- the subject's rows.
CREATE TABLE vault_values (
    subject_id  TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    sealed      BLOB NOT NULL,
    token       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (subject_id, field)
);
