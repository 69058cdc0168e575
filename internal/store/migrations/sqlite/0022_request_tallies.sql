-- Requests counted by organisation, state and due date, so that the
-- dashboard and the custos_requests_* metrics read a few hundred rows
-- rather than every request an organisation ever had (most of them
-- closed). Triggers keep the tally in the transaction of every insert,
-- state or due date change and delete of a request, whatever code path
-- writes it: the count is exact. SQLite has one writer at a time.
CREATE TABLE request_tallies (
    org_id   TEXT NOT NULL REFERENCES organisations(id),
    state    TEXT NOT NULL,
    due_date TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (org_id, state, due_date)
) WITHOUT ROWID;

-- A (state, due date) nobody is in any more is dropped, so that the tally
-- stays as small as the set of live combinations.
CREATE TRIGGER requests_tally_insert AFTER INSERT ON requests
BEGIN
    INSERT OR IGNORE INTO request_tallies (org_id, state, due_date, n) VALUES (NEW.org_id, NEW.state, NEW.due_date, 0);
    UPDATE request_tallies SET n = n + 1 WHERE org_id = NEW.org_id AND state = NEW.state AND due_date = NEW.due_date;
END;

CREATE TRIGGER requests_tally_update AFTER UPDATE OF org_id, state, due_date ON requests
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.state IS NOT NEW.state OR OLD.due_date IS NOT NEW.due_date
BEGIN
    UPDATE request_tallies SET n = n - 1 WHERE org_id = OLD.org_id AND state = OLD.state AND due_date = OLD.due_date;
    DELETE FROM request_tallies WHERE org_id = OLD.org_id AND state = OLD.state AND due_date = OLD.due_date AND n = 0;
    INSERT OR IGNORE INTO request_tallies (org_id, state, due_date, n) VALUES (NEW.org_id, NEW.state, NEW.due_date, 0);
    UPDATE request_tallies SET n = n + 1 WHERE org_id = NEW.org_id AND state = NEW.state AND due_date = NEW.due_date;
END;

CREATE TRIGGER requests_tally_delete AFTER DELETE ON requests
BEGIN
    UPDATE request_tallies SET n = n - 1 WHERE org_id = OLD.org_id AND state = OLD.state AND due_date = OLD.due_date;
    DELETE FROM request_tallies WHERE org_id = OLD.org_id AND state = OLD.state AND due_date = OLD.due_date AND n = 0;
END;

INSERT INTO request_tallies (org_id, state, due_date, n)
    SELECT org_id, state, due_date, COUNT(*) FROM requests GROUP BY org_id, state, due_date;

-- The queue and due_by lists page by (due_date, received_at, id) within a
-- state: with the whole key in the index, one state's page is read in
-- order and stops at the limit, closed states with a million rows too.
DROP INDEX requests_open;
CREATE INDEX requests_queue ON requests (org_id, state, due_date, received_at, id);
