-- Row-level security is PostgreSQL's (see its 0011): SQLite has none, and
-- a SQLite database is one process's, so the store's own scoping is the
-- line there. The version is kept in step with PostgreSQL's.
SELECT 1;
