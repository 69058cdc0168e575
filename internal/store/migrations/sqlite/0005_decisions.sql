-- The decision model keeps more than consents: where a subject lives and
-- which language they read (legal bases, minors' rules and notices differ
-- by jurisdiction), objections, separate consents to acts (provision to a
-- recipient, a cross-border transfer, public disclosure) and acceptances of
-- a policy version, all in the one ledger. The current state per key keeps
-- the last action, not only whether it granted.
ALTER TABLE subjects ADD COLUMN jurisdiction TEXT;
ALTER TABLE subjects ADD COLUMN language TEXT;

ALTER TABLE consent_state ADD COLUMN action TEXT NOT NULL DEFAULT 'grant';
UPDATE consent_state SET action = CASE granted WHEN 1 THEN 'grant' ELSE 'withdraw' END;

-- A version may be published ahead of the instant it takes effect; until
-- then it is announced, not in force. accept lists the purposes on bases
-- other than consent that need the subject's express acceptance of it;
-- notices_pending marks a material change whose notices to subjects are
-- not all queued yet (versions before this schema had none to send), and
-- notices_cursor the last subject id a committed batch reached.
ALTER TABLE policy_versions ADD COLUMN effective_at BIGINT NOT NULL DEFAULT 0;
UPDATE policy_versions SET effective_at = published_at;
ALTER TABLE policy_versions ADD COLUMN accept TEXT NOT NULL DEFAULT '[]';
ALTER TABLE policy_versions ADD COLUMN notices_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policy_versions ADD COLUMN notices_cursor TEXT NOT NULL DEFAULT '';
