-- API processes cache "token → principal (role, tenant row)" for a moment so an authenticated request
-- costs no lookup round trip. Any change to a token or a tenant (revocation, logout, opt-ins, OTP
-- prefixes), from any process or the CLI, tells every process to drop its cache at COMMIT. These
-- writes are rare, so a NOTIFY in SQL here costs nothing on the hot paths.
CREATE FUNCTION notify_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('auth_changed', TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE TRIGGER api_tokens_auth_changed AFTER UPDATE OR DELETE ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();
CREATE TRIGGER tenants_auth_changed AFTER UPDATE OR DELETE ON tenants
  FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();
