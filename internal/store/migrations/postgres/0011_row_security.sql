-- Row-level security: a second line behind the store's own scoping. A
-- table of an organisation's data shows and takes only the rows of the
-- organisation the session or transaction is set to (custos.org, set by
-- the store before it uses a connection), and none while it is unset.
-- FORCE makes the policies bind the tables' owner too, which is the role
-- Custos usually runs as. A superuser, or a role with BYPASSRLS, is not
-- bound: run Custos as neither (docs/organisations.md).
--
-- A later migration that changes rows of these tables must set custos.org
-- (or run as a role that bypasses the policies) to see them.
DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_keys', 'subjects', 'identities', 'policy_versions', 'consent_events',
        'consent_state', 'audit_log', 'audit_head', 'ledger_head', 'requests', 'request_events', 'otps',
        'outbox', 'bundles', 'recipient_tasks', 'operators', 'operator_sessions', 'approvals',
        'center_signins', 'vault_values']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY custos_org ON %I USING (org_id = current_setting(%L, true)) WITH CHECK (org_id = current_setting(%L, true))',
            t, 'custos.org', 'custos.org');
    END LOOP;
END $$;
