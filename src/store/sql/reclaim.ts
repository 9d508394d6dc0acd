import type { Queryable } from '../driver.ts';
import { publishChanges } from './notify.ts';

/**
 * Rows whose lease ran out (their dispatcher died or hung) become claimable again: `failed` and due
 * now, or `dead` when the attempts are used up. At-least-once: the send may have happened.
 */
export async function reclaimExpiredLeases(q: Queryable, actor: string, limit = 500): Promise<number> {
  const res = await q.query<{ id: string; tenant_id: string; status: string; adapter: string; due: boolean }>(
    `WITH stale AS (
       SELECT id FROM outbox WHERE status = 'sending' AND lease_expires_at < now()
       ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ), upd AS (
       UPDATE outbox o SET
         -- OTP is never retried later (online only): its expired lease ends it as blocked.
         status = CASE WHEN o.channel = 'otp_sms' THEN 'blocked' WHEN o.attempts >= o.max_attempts THEN 'dead' ELSE 'failed' END,
         reason = 'lease expired: the dispatcher stopped mid-send (delivery is at-least-once)',
         next_attempt_at = CASE WHEN o.channel = 'otp_sms' OR o.attempts >= o.max_attempts THEN NULL ELSE now() END,
         lease_owner = NULL, lease_expires_at = NULL, last_error_code = 'lease_expired', updated_at = now()
       FROM stale WHERE o.id = stale.id
       RETURNING o.id, o.tenant_id, o.status, o.adapter, o.reason
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason)
       SELECT tenant_id, 'outbox', id::text, $1, 'lease_expired', 'sending', status, reason FROM upd
     )
     SELECT id::text AS id, tenant_id, status, adapter, status = 'failed' AS due FROM upd`,
    [actor, limit],
  );
  publishChanges(q, res.rows);
  return res.rows.length;
}
