-- Group commit for single-message enqueues: the API gathers the messages of one tenant that arrive
-- while an earlier enqueue is still in flight and stores them with one call, each row with its
-- `created` audit event, in one transaction. Every request is answered only after that commit, so
-- an acknowledged message is as durable as before; the database does one statement and one commit
-- (one WAL flush) for the group instead of one per message. Same scoping as enqueue_outbox, which
-- becomes a group of one (below), so the scoping and the insert live in this function alone.
CREATE FUNCTION enqueue_outbox_many(p_tenant text, p_rows jsonb) RETURNS SETOF outbox LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('app.tenant_id', true), '') NOT IN ('', p_tenant) THEN
    RAISE EXCEPTION 'enqueue_outbox_many: this transaction is scoped to another tenant' USING ERRCODE = '42501';
  END IF;
  SET LOCAL ROLE mupza_app;
  PERFORM set_config('app.tenant_id', p_tenant, true);
  RETURN QUERY
    WITH src AS (
      SELECT * FROM jsonb_to_recordset(p_rows) AS r(
        id uuid, channel text, adapter text, target text, title text, subject text, body text, template text,
        data jsonb, locale text, source text, status text, reason text, mode text, idempotency_key text,
        request_hash text, send_at timestamptz, expires_at timestamptz, max_attempts int, actor text)
    ), ins AS (
      INSERT INTO outbox (id, tenant_id, channel, adapter, target, title, subject, body, template, data, locale, source,
        status, reason, mode, idempotency_key, request_hash, send_at, expires_at, next_attempt_at, max_attempts)
      SELECT id, p_tenant, channel, adapter, target, title, subject, body, template, data, locale, source,
        status, reason, mode, idempotency_key, request_hash, send_at, expires_at,
        CASE WHEN status = 'ready' THEN send_at END, max_attempts
      FROM src
      ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING *
    ), aud AS (
      INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason)
      SELECT ins.tenant_id, 'outbox', ins.id::text, src.actor, 'created', NULL, ins.status, ins.reason
      FROM ins JOIN src ON src.id = ins.id
    )
    SELECT * FROM ins;
END $$;

CREATE OR REPLACE FUNCTION enqueue_outbox(
  p_id uuid, p_tenant text, p_channel text, p_adapter text, p_target text, p_title text, p_subject text,
  p_body text, p_template text, p_data jsonb, p_locale text, p_source text, p_status text, p_reason text,
  p_mode text, p_idempotency_key text, p_request_hash text, p_send_at timestamptz, p_expires_at timestamptz,
  p_max_attempts int, p_actor text
) RETURNS SETOF outbox LANGUAGE sql AS $$
  SELECT * FROM enqueue_outbox_many(p_tenant, jsonb_build_array(jsonb_build_object(
    'id', p_id, 'channel', p_channel, 'adapter', p_adapter, 'target', p_target, 'title', p_title,
    'subject', p_subject, 'body', p_body, 'template', p_template, 'data', p_data, 'locale', p_locale,
    'source', p_source, 'status', p_status, 'reason', p_reason, 'mode', p_mode,
    'idempotency_key', p_idempotency_key, 'request_hash', p_request_hash, 'send_at', p_send_at,
    'expires_at', p_expires_at, 'max_attempts', p_max_attempts, 'actor', p_actor)))
$$;
