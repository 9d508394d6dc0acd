-- Row-level security, the second layer of tenant isolation (the first: every repository query
-- filters by tenant). Request handlers run their queries in a transaction that does
--   SET LOCAL ROLE mupza_app; SELECT set_config('app.tenant_id', <tenant>, true)
-- and mupza_app is neither superuser, nor owner, nor BYPASSRLS: it sees only its tenant's rows.
-- System loops (dispatcher, reaper, sealer, webhook routing) run as the connecting role, which
-- the system_access policy lets through; they never assume mupza_app.

DO $$
BEGIN
  CREATE ROLE mupza_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION
  -- Roles are cluster-wide: another database (or a concurrent migration) may have created it.
  WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- The connecting role must be allowed to SET ROLE mupza_app (a superuser always is).
DO $$
BEGIN
  EXECUTE format('GRANT mupza_app TO %I', current_user);
EXCEPTION WHEN others THEN NULL;
END $$;

GRANT USAGE ON SCHEMA public TO mupza_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO mupza_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO mupza_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO mupza_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO mupza_app;

-- Every table that carries a tenant_id (and tenants itself) gets RLS, forced, with two policies.
-- Later migrations that add tenant tables call enable_tenant_rls('<table>') for theirs.
CREATE FUNCTION enable_tenant_rls(tbl regclass, col text DEFAULT 'tenant_id') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s TO mupza_app USING (%I = current_setting(''app.tenant_id'', true)) WITH CHECK (%I = current_setting(''app.tenant_id'', true))', tbl, col, col);
  EXECUTE format('CREATE POLICY system_access ON %s USING (current_user <> ''mupza_app'') WITH CHECK (current_user <> ''mupza_app'')', tbl);
END $$;

SELECT enable_tenant_rls('tenants', 'id');
SELECT enable_tenant_rls(format('%I', c.table_name)::regclass)
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE';
