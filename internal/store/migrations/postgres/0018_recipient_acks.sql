-- Who acknowledged a recipient's notice, and when: the recipient itself
-- through the link its notice carries ("recipient:<id>"), or a member of
-- staff on its behalf (their key or operator id). 0 and '' until then.
ALTER TABLE recipient_tasks ADD COLUMN acked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE recipient_tasks ADD COLUMN acked_by TEXT NOT NULL DEFAULT '';
