-- Group commit for single-message enqueues: the API gathers the messages of one tenant that arrive
-- while an earlier enqueue is still in flight and stores them with one call, each row with its
-- `created` audit event, in one transaction. Every request is answered only after that commit, so
-- an acknowledged message is as durable as before; the database does one statement and one commit
-- (one WAL flush) for the group instead of one per message. Same scoping as enqueue_outbox.
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
