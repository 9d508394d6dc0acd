import type { Queryable } from '../driver.ts';

/**
 * Claims a just-inserted `ready` OTP row for the request that sends it (attempt + 1, leased to
 * `worker`, audited). Returns the attempt number, or null when the row was not `ready`.
 */
export async function claimOwnOtpRow(
  q: Queryable,
  c: { tenantId: string; id: string; worker: string; leaseMs: number },
): Promise<number | null> {
  const claimed = await q.query<{ attempts: number }>(
    `WITH upd AS (
       UPDATE outbox SET status = 'sending', lease_owner = $3, lease_expires_at = now() + make_interval(secs => $4::float8 / 1000),
         attempts = attempts + 1, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND status = 'ready'
       RETURNING id, tenant_id, attempts
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
       SELECT tenant_id, 'outbox', id::text, $3, 'claimed', 'ready', 'sending', 'OTP is sent by the request itself (online only)',
         jsonb_build_object('attempt', attempts)
       FROM upd
     )
     SELECT attempts FROM upd`,
    [c.tenantId, c.id, c.worker, c.leaseMs],
  );
  return claimed.rows.length === 1 ? Number(claimed.rows[0]!.attempts) : null;
}
