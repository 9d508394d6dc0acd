-- Enqueue as one statement: the outbox row and its `created` audit event, scoped to the tenant the
-- way the API's transactions are (role mupza_app, app.tenant_id), so row-level security holds. Called
-- on its own it is a whole transaction in one round trip; called inside a tenant transaction (batch,
-- OTP) it joins it. Returns nothing when the tenant already used the idempotency key.

-- Only rows that carry an idempotency key need the uniqueness index: most rows have none, and every
-- version of every row (ready → sending → sent) otherwise writes an index entry for nothing.
ALTER TABLE outbox DROP CONSTRAINT outbox_idempotency;
CREATE UNIQUE INDEX outbox_idempotency ON outbox (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE FUNCTION enqueue_outbox(
  p_id uuid, p_tenant text, p_channel text, p_adapter text, p_target text, p_title text, p_subject text,
  p_body text, p_template text, p_data jsonb, p_locale text, p_source text, p_status text, p_reason text,
  p_mode text, p_idempotency_key text, p_request_hash text, p_send_at timestamptz, p_expires_at timestamptz,
  p_max_attempts int, p_actor text
) RETURNS SETOF outbox LANGUAGE plpgsql AS $$
BEGIN
  -- Inside a transaction already scoped to a tenant, only that tenant's rows: never re-scope it.
  IF coalesce(current_setting('app.tenant_id', true), '') NOT IN ('', p_tenant) THEN
    RAISE EXCEPTION 'enqueue_outbox: this transaction is scoped to another tenant' USING ERRCODE = '42501';
  END IF;
  SET LOCAL ROLE mupza_app;
  PERFORM set_config('app.tenant_id', p_tenant, true);
  RETURN QUERY
    WITH ins AS (
      INSERT INTO outbox (id, tenant_id, channel, adapter, target, title, subject, body, template, data, locale, source,
        status, reason, mode, idempotency_key, request_hash, send_at, expires_at, next_attempt_at, max_attempts)
      VALUES (p_id, p_tenant, p_channel, p_adapter, p_target, p_title, p_subject, p_body, p_template, p_data, p_locale,
        p_source, p_status, p_reason, p_mode, p_idempotency_key, p_request_hash, p_send_at, p_expires_at,
        CASE WHEN p_status = 'ready' THEN p_send_at END, p_max_attempts)
      ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING *
    ), aud AS (
      INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason)
      SELECT tenant_id, 'outbox', id::text, p_actor, 'created', NULL, status, reason FROM ins
    )
    SELECT * FROM ins;
END $$;
