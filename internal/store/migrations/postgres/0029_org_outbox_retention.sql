-- An organisation may keep the messages Custos sends for it (the outbox:
-- codes and notices, PI until purged) for a period of its own after they
-- are settled, a Go duration such as 72h: '' is the deployment's setting
-- (--outbox-retention).
ALTER TABLE organisations ADD COLUMN outbox_retention TEXT NOT NULL DEFAULT '';
