import type { Queryable } from '../driver.ts';
import { OUTBOX_COLUMNS, type OutboxRow } from '../rows.ts';

export type ClaimedRow = OutboxRow & { from_status: string };

/**
 * Claims due rows of one adapter lane with a lease. SKIP LOCKED lets several dispatchers claim
 * side by side without waiting on each other; the audit event is written in the same statement.
 *
 * Fairness: rows are taken round-robin across tenants (the oldest due row of each tenant first), so
 * one tenant's flood cannot starve another tenant's messages. The candidate window bounds the scan.
 */
export async function claimDue(
  q: Queryable,
  opts: { adapter: string; limit: number; worker: string; leaseMs: number },
): Promise<ClaimedRow[]> {
  const cols = OUTBOX_COLUMNS.split(',')
    .map((c) => `o.${c.trim()}`)
    .join(', ');
  const res = await q.query<ClaimedRow>(
    `WITH candidates AS (
       SELECT id, tenant_id, next_attempt_at FROM outbox
       WHERE adapter = $1 AND status IN ('ready', 'failed') AND next_attempt_at <= now()
       ORDER BY next_attempt_at
       LIMIT $2 * 20
     ), ranked AS (
       SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY next_attempt_at) AS rn, next_attempt_at
       FROM candidates
     ), due AS (
       SELECT o.id, o.status AS from_status FROM outbox o
       JOIN ranked r ON r.id = o.id
       WHERE o.status IN ('ready', 'failed') AND o.next_attempt_at <= now()
       ORDER BY r.rn, r.next_attempt_at
       LIMIT $2
       FOR UPDATE OF o SKIP LOCKED
     ), upd AS (
       UPDATE outbox o SET status = 'sending', lease_owner = $3,
         lease_expires_at = now() + make_interval(secs => $4::float8 / 1000), attempts = o.attempts + 1, updated_at = now()
       FROM due WHERE o.id = due.id
       RETURNING ${cols}, due.from_status
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
       SELECT tenant_id, 'outbox', id::text, $3, 'claimed', from_status, 'sending', NULL,
         jsonb_build_object('attempt', attempts)
       FROM upd
     )
     SELECT * FROM upd`,
    [opts.adapter, opts.limit, opts.worker, opts.leaseMs],
  );
  return res.rows;
}
