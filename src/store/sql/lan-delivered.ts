import type { Queryable } from '../driver.ts';
import { assertTransition } from '../../core/status.ts';
import { publishChanges } from './notify.ts';

// The move this file makes must stay a legal one of the status model (checked once, at import).
assertTransition('sent', 'delivered');
const DELIVERED_REASON = 'acknowledged by every target device';

/**
 * in_app rows that are `sent` and acknowledged by every target device move to `delivered`, each with
 * its audit event; the actor is the target device whose ack came last. An entry is acked when its
 * seq is at or below its device's cumulative acked_seq; entries of a revoked device are dropped, not
 * acked, and a row needs at least one live entry (rows whose only devices were revoked stay `sent`).
 * With `ids`, only those rows are checked; without, the oldest waiting rows are swept (the backstop
 * for an ack that raced the dispatcher, or a crash between an ack and its transition).
 * Returns the ids moved.
 */
export async function markLanDelivered(
  q: Queryable,
  ids: readonly string[] | null,
  limit = 500,
): Promise<string[]> {
  const found = await q.query<{ id: string; last_device: string; acked: number }>(
    `SELECT o.id::text AS id,
       (SELECT i.device_id FROM lan_inbox i
        JOIN lan_device_acks a ON a.tenant_id = i.tenant_id AND a.device_id = i.device_id
        WHERE i.outbox_id = o.id AND i.dropped_at IS NULL
        ORDER BY a.updated_at DESC, i.device_id LIMIT 1) AS last_device,
       (SELECT count(*) FROM lan_inbox i WHERE i.outbox_id = o.id AND i.dropped_at IS NULL) AS acked
     FROM outbox o
     WHERE ($1::uuid[] IS NULL OR o.id = ANY($1::uuid[]))
       AND o.channel = 'in_app' AND o.status = 'sent'
       AND EXISTS (SELECT 1 FROM lan_inbox i WHERE i.outbox_id = o.id AND i.dropped_at IS NULL)
       AND NOT EXISTS (
         SELECT 1 FROM lan_inbox i
         LEFT JOIN lan_device_acks a ON a.tenant_id = i.tenant_id AND a.device_id = i.device_id
         WHERE i.outbox_id = o.id AND i.dropped_at IS NULL AND coalesce(a.acked_seq, 0) < i.seq
           -- A printer's entry is done when printed (on it or its backup), even behind a held one.
           AND NOT EXISTS (SELECT 1 FROM lan_prints p WHERE p.tenant_id = i.tenant_id AND p.device_id = i.device_id
                             AND p.seq = i.seq AND p.status IN ('printed', 'backup')))
     ORDER BY o.updated_at
     LIMIT $2`,
    [ids, limit],
  );
  if (found.rows.length === 0) return [];
  // Every row found moves in one statement (one audit event each, as a single transition writes):
  // a 200-screen kitchen at 20 tickets/s would otherwise cost a statement per ticket. The status is
  // re-checked under the row lock: a row another hub moved meanwhile is left alone.
  const r = await q.query<{ id: string; tenant_id: string; adapter: string; status: string }>(
    `WITH x AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, last_device text, acked bigint)
     ), upd AS (
       UPDATE outbox o SET status = 'delivered', reason = $2, updated_at = now()
       FROM x WHERE o.id = x.id AND o.status = 'sent'
       RETURNING o.id, o.tenant_id, o.adapter, o.status, x.last_device, x.acked
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
       SELECT tenant_id, 'outbox', id::text, 'device:' || last_device, 'device_ack', 'sent', 'delivered', $2,
         jsonb_build_object('devicesAcked', acked)
       FROM upd
     )
     SELECT id::text AS id, tenant_id, adapter, status FROM upd`,
    [
      JSON.stringify(
        found.rows.map((f) => ({ id: f.id, last_device: f.last_device, acked: Number(f.acked) })),
      ),
      DELIVERED_REASON,
    ],
  );
  publishChanges(q, r.rows);
  return r.rows.map((x) => x.id);
}
