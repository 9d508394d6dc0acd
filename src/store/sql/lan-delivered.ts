import type { Queryable } from '../driver.ts';
import { transitionRow } from './transition.ts';

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
  const r = await q.query<{ id: string; tenant_id: string; last_device: string; acked: number }>(
    `SELECT o.id::text AS id, o.tenant_id,
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
         WHERE i.outbox_id = o.id AND i.dropped_at IS NULL AND coalesce(a.acked_seq, 0) < i.seq)
     ORDER BY o.updated_at
     LIMIT $2`,
    [ids, limit],
  );
  const moved: string[] = [];
  for (const row of r.rows) {
    const done = await transitionRow(q, {
      tenantId: row.tenant_id,
      id: row.id,
      from: 'sent',
      to: 'delivered',
      actor: `device:${row.last_device}`,
      action: 'device_ack',
      reason: 'acknowledged by every target device',
      detail: { devicesAcked: Number(row.acked) },
    });
    if (done) moved.push(row.id);
  }
  return moved;
}
