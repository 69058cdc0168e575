-- The processor's own name for the customer an entrustment serves: the
-- value its databases hold, in the collections annotated `held_for`, for
-- the rows kept for that customer. The end of the entrustment deletes or
-- returns exactly those rows. It names an organisation, not a person.
ALTER TABLE entrustments ADD COLUMN customer_key TEXT NOT NULL DEFAULT '';
