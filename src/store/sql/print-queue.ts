import type { Queryable } from '../driver.ts';
import { appendAudit } from './audit.ts';

// A printer's inbox as a print queue: what waits, what each entry's print record says, and the
// ack that moves past finished tickets.

/** A printer's inbox entry not yet done, with what the ticket says and its print record. */
export interface PrintEntry {
  seq: number;
  outbox_id: string;
  title: string | null;
  body: string | null;
  source: string;
  created_at: Date | string;
  entry_at: Date | string;
  status: 'pending' | 'writing' | 'held' | 'released' | null;
  restart_reprint: boolean;
}

/** The printer's next entries to print (not printed, backed up, held or discarded), in seq order. */
export async function pendingEntries(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  limit: number,
): Promise<PrintEntry[]> {
  const r = await q.query<PrintEntry>(
    `SELECT i.seq, o.id::text AS outbox_id, o.title, o.body, o.source, o.created_at, i.created_at AS entry_at,
       p.status, coalesce(p.restart_reprint, false) AS restart_reprint
     FROM lan_inbox i
     JOIN outbox o ON o.id = i.outbox_id AND o.tenant_id = i.tenant_id
     LEFT JOIN lan_device_acks a ON a.tenant_id = i.tenant_id AND a.device_id = i.device_id
     LEFT JOIN lan_prints p ON p.tenant_id = i.tenant_id AND p.device_id = i.device_id AND p.seq = i.seq
     WHERE i.tenant_id = $1 AND i.device_id = $2 AND i.dropped_at IS NULL AND i.seq > coalesce(a.acked_seq, 0)
       AND (p.status IS NULL OR p.status IN ('pending', 'writing', 'released'))
     ORDER BY i.seq LIMIT $3`,
    [tenantId, deviceId, limit],
  );
  return r.rows.map((x) => ({ ...x, seq: Number(x.seq) }));
}

export type PrintStatus = 'pending' | 'writing' | 'printed' | 'backup' | 'held' | 'released' | 'discarded';

export interface PrintUpdate {
  tenantId: string;
  deviceId: string;
  seq: number;
  outboxId: string;
  status: PrintStatus;
  printedOn?: string | null;
  confirmed?: boolean;
  restartReprint?: boolean;
  reason?: string | null;
  attempt?: boolean;
}

export async function recordPrint(q: Queryable, u: PrintUpdate): Promise<void> {
  await q.query(
    `INSERT INTO lan_prints (tenant_id, device_id, seq, outbox_id, status, printed_on, confirmed, restart_reprint, reason, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, false), coalesce($8, false), $9, CASE WHEN $10 THEN 1 ELSE 0 END)
     ON CONFLICT (tenant_id, device_id, seq) DO UPDATE SET status = EXCLUDED.status,
       printed_on = coalesce(EXCLUDED.printed_on, lan_prints.printed_on),
       confirmed = coalesce($7, lan_prints.confirmed),
       restart_reprint = lan_prints.restart_reprint OR EXCLUDED.restart_reprint,
       reason = EXCLUDED.reason, attempts = lan_prints.attempts + CASE WHEN $10 THEN 1 ELSE 0 END, updated_at = now()`,
    [
      u.tenantId,
      u.deviceId,
      u.seq,
      u.outboxId,
      u.status,
      u.printedOn ?? null,
      u.confirmed ?? null,
      u.restartReprint ?? null,
      u.reason ?? null,
      u.attempt ?? false,
    ],
  );
}

/**
 * Moves the printer's cumulative ack over the entries that are done (printed, backed up or
 * discarded), up to the first that is not (so pruning and device positions work as for screens).
 */
export async function ackDonePrefix(q: Queryable, tenantId: string, deviceId: string): Promise<void> {
  await q.query(
    `WITH cur AS (SELECT coalesce((SELECT acked_seq FROM lan_device_acks WHERE tenant_id = $1 AND device_id = $2), 0) AS s),
     firstopen AS (
       SELECT min(i.seq) AS s FROM lan_inbox i CROSS JOIN cur
       WHERE i.tenant_id = $1 AND i.device_id = $2 AND i.seq > cur.s AND i.dropped_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM lan_prints p WHERE p.tenant_id = i.tenant_id AND p.device_id = i.device_id
                         AND p.seq = i.seq AND p.status IN ('printed', 'backup', 'discarded'))
     ), upto AS (
       SELECT CASE WHEN f.s IS NULL THEN (SELECT max(seq) FROM lan_inbox WHERE tenant_id = $1 AND device_id = $2)
                   ELSE f.s - 1 END AS s
       FROM firstopen f
     )
     INSERT INTO lan_device_acks (tenant_id, device_id, acked_seq, updated_at)
     SELECT $1, $2, upto.s, clock_timestamp() FROM upto WHERE upto.s IS NOT NULL
     ON CONFLICT (tenant_id, device_id) DO UPDATE
       SET acked_seq = greatest(lan_device_acks.acked_seq, EXCLUDED.acked_seq), updated_at = EXCLUDED.updated_at`,
    [tenantId, deviceId],
  );
}

/** Counts per printer: waiting to print, and held. */
export async function printerQueues(
  q: Queryable,
  tenantId: string,
): Promise<Map<string, { waiting: number; held: number }>> {
  const r = await q.query<{ device_id: string; waiting: number; held: number }>(
    `SELECT i.device_id,
       count(*) FILTER (WHERE p.status IS NULL OR p.status IN ('pending', 'writing', 'released'))::int AS waiting,
       count(*) FILTER (WHERE p.status = 'held')::int AS held
     FROM lan_inbox i
     JOIN lan_printers lp ON lp.tenant_id = i.tenant_id AND lp.device_id = i.device_id
     LEFT JOIN lan_device_acks a ON a.tenant_id = i.tenant_id AND a.device_id = i.device_id
     LEFT JOIN lan_prints p ON p.tenant_id = i.tenant_id AND p.device_id = i.device_id AND p.seq = i.seq
     WHERE i.tenant_id = $1 AND i.dropped_at IS NULL AND i.seq > coalesce(a.acked_seq, 0)
     GROUP BY i.device_id`,
    [tenantId],
  );
  return new Map(r.rows.map((x) => [x.device_id, { waiting: Number(x.waiting), held: Number(x.held) }]));
}

export async function auditPrint(
  q: Queryable,
  e: {
    tenantId: string;
    outboxId: string;
    printer: string;
    action: string;
    outcome: string;
    reason: string;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await appendAudit(q, [
    {
      tenantId: e.tenantId,
      entity: 'outbox',
      entityId: e.outboxId,
      actor: `device:${e.printer}`,
      action: e.action,
      reason: e.reason,
      detail: { printer: e.printer, outcome: e.outcome, ...e.detail },
    },
  ]);
}
