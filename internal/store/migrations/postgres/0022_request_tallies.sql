-- Requests counted by organisation, state and due date, so that the
-- dashboard and the custos_requests_* metrics read a few hundred rows
-- rather than every request an organisation ever had (most of them
-- closed). Triggers keep the tally in the transaction of every insert,
-- state or due date change and delete of a request, whatever code path
-- writes it: the count is exact. Writers do not deadlock on the tally:
-- every write transaction first locks its organisations' audit heads in
-- one order (store/writer.go), so one organisation's tally rows change
-- under that lock, one transaction at a time, across instances.
CREATE TABLE request_tallies (
    org_id   TEXT NOT NULL REFERENCES organisations(id),
    state    TEXT NOT NULL,
    due_date TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (org_id, state, due_date)
);

ALTER TABLE request_tallies ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_tallies FORCE ROW LEVEL SECURITY;
CREATE POLICY custos_org ON request_tallies USING (org_id = current_setting('custos.org', true))
    WITH CHECK (org_id = current_setting('custos.org', true));

CREATE FUNCTION request_tally_add(o TEXT, st TEXT, due TEXT, d BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO request_tallies (org_id, state, due_date, n) VALUES (o, st, due, d)
        ON CONFLICT (org_id, state, due_date) DO UPDATE SET n = request_tallies.n + d;
    -- A (state, due date) nobody is in any more is dropped, so that the
    -- tally stays as small as the set of live combinations.
    IF d < 0 THEN
        DELETE FROM request_tallies WHERE org_id = o AND state = st AND due_date = due AND n = 0;
    END IF;
END $$;

CREATE FUNCTION request_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM request_tally_add(OLD.org_id, OLD.state, OLD.due_date, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM request_tally_add(NEW.org_id, NEW.state, NEW.due_date, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER requests_tally_insert AFTER INSERT ON requests
    FOR EACH ROW EXECUTE FUNCTION request_tally();
CREATE TRIGGER requests_tally_update AFTER UPDATE OF org_id, state, due_date ON requests
    FOR EACH ROW WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.state IS DISTINCT FROM NEW.state OR OLD.due_date IS DISTINCT FROM NEW.due_date)
    EXECUTE FUNCTION request_tally();
CREATE TRIGGER requests_tally_delete AFTER DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION request_tally();

-- The requests there already, one organisation at a time: row-level
-- security shows a transaction only the organisation it is set to.
DO $$
DECLARE o TEXT;
BEGIN
    FOR o IN SELECT id FROM organisations LOOP
        PERFORM set_config('custos.org', o, true);
        INSERT INTO request_tallies (org_id, state, due_date, n)
            SELECT org_id, state, due_date, COUNT(*) FROM requests WHERE org_id = o GROUP BY org_id, state, due_date;
    END LOOP;
    PERFORM set_config('custos.org', '', true);
END $$;

-- The queue and due_by lists page by (due_date, received_at, id) within a
-- state: with the whole key in the index, one state's page is read in
-- order and stops at the limit, closed states with a million rows too.
DROP INDEX requests_open;
CREATE INDEX requests_queue ON requests (org_id, state, due_date, received_at, id);
