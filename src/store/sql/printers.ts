import type { Queryable } from '../driver.ts';
import { appendAudit } from './audit.ts';

export interface PrinterRow {
  tenant_id: string;
  device_id: string;
  name: string;
  address: string;
  columns: number;
  profile: string;
  backup_id: string | null;
  confirm: 'status' | 'write';
  failover_after_s: number;
  state: 'unknown' | 'online' | 'offline';
  reason: string | null;
  state_since: Date | string;
  worker: string | null;
}

export interface PrinterSettings {
  address: string;
  columns: number;
  profile: string;
  backup: string | null;
  confirm: 'status' | 'write';
  failoverAfterS: number;
}

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

const PRINTER_COLS = `p.tenant_id, p.device_id, d.name, p.address, p.columns, p.profile, p.backup_id, p.confirm,
  p.failover_after_s, p.state, p.reason, p.state_since, p.worker`;

export async function savePrinter(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  s: PrinterSettings,
): Promise<void> {
  await q.query(
    `INSERT INTO lan_printers (tenant_id, device_id, address, columns, profile, backup_id, confirm, failover_after_s)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, device_id) DO UPDATE SET address = EXCLUDED.address, columns = EXCLUDED.columns,
       profile = EXCLUDED.profile, backup_id = EXCLUDED.backup_id, confirm = EXCLUDED.confirm,
       failover_after_s = EXCLUDED.failover_after_s, updated_at = now()`,
    [tenantId, deviceId, s.address, s.columns, s.profile, s.backup, s.confirm, s.failoverAfterS],
  );
}

/** Printers of active devices; of one tenant, or of every tenant (the hub's workers). */
export async function listPrinters(q: Queryable, tenantId: string | null): Promise<PrinterRow[]> {
  const r = await q.query<PrinterRow>(
    `SELECT ${PRINTER_COLS} FROM lan_printers p
     JOIN lan_devices d ON d.tenant_id = p.tenant_id AND d.id = p.device_id AND d.revoked_at IS NULL
     WHERE ($1::text IS NULL OR p.tenant_id = $1) ORDER BY p.tenant_id, p.device_id`,
    [tenantId],
  );
  return r.rows;
}

export async function getPrinter(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<PrinterRow | null> {
  const r = await q.query<PrinterRow>(
    `SELECT ${PRINTER_COLS} FROM lan_printers p
     JOIN lan_devices d ON d.tenant_id = p.tenant_id AND d.id = p.device_id AND d.revoked_at IS NULL
     WHERE p.tenant_id = $1 AND p.device_id = $2`,
    [tenantId, deviceId],
  );
  return r.rows[0] ?? null;
}

/**
 * Takes or renews the lease of the printers this worker may drive (free, expired, or its own):
 * one process drives a printer at a time. Returns the leased printers' keys.
 */
export async function leasePrinters(q: Queryable, worker: string, leaseMs: number): Promise<Set<string>> {
  const r = await q.query<{ tenant_id: string; device_id: string }>(
    `UPDATE lan_printers p SET worker = $1, lease_until = now() + make_interval(secs => $2::double precision / 1000)
     FROM lan_devices d
     WHERE d.tenant_id = p.tenant_id AND d.id = p.device_id AND d.revoked_at IS NULL
       AND (p.worker IS NULL OR p.worker = $1 OR p.lease_until IS NULL OR p.lease_until < now())
     RETURNING p.tenant_id, p.device_id`,
    [worker, leaseMs],
  );
  return new Set(r.rows.map((x) => `${x.tenant_id}\u0000${x.device_id}`));
}

export async function releasePrinters(q: Queryable, worker: string): Promise<void> {
  await q.query(`UPDATE lan_printers SET worker = NULL, lease_until = NULL WHERE worker = $1`, [worker]);
}

/**
 * Records a state change (online/offline with its reason) with its audit event; unchanged state
 * writes nothing. Returns whether it changed.
 */
export async function setPrinterState(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  state: 'online' | 'offline',
  reason: string | null,
): Promise<boolean> {
  const r = await q.query<{ before: string }>(
    `WITH old AS (SELECT state, reason FROM lan_printers WHERE tenant_id = $1 AND device_id = $2 FOR UPDATE)
     UPDATE lan_printers p SET state = $3, reason = $4, state_since = CASE WHEN p.state = $3 THEN p.state_since ELSE now() END,
       updated_at = now()
     FROM old WHERE p.tenant_id = $1 AND p.device_id = $2 AND (old.state IS DISTINCT FROM $3 OR old.reason IS DISTINCT FROM $4)
     RETURNING old.state AS before`,
    [tenantId, deviceId, state, reason],
  );
  const row = r.rows[0];
  if (!row) return false;
  await appendAudit(q, [
    {
      tenantId,
      entity: 'device',
      entityId: deviceId,
      actor: `device:${deviceId}`,
      action: state === 'online' ? 'printer_online' : 'printer_offline',
      from: row.before,
      to: state,
      reason: reason ?? 'status confirmed: online, cover closed, paper present, no error',
    },
  ]);
  return true;
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

export interface HeldTicket {
  printer: string;
  seq: number;
  outbox_id: string;
  title: string | null;
  created_at: Date | string;
  reason: string | null;
}

export async function listHeld(q: Queryable, tenantId: string): Promise<HeldTicket[]> {
  const r = await q.query<HeldTicket>(
    `SELECT p.device_id AS printer, p.seq, p.outbox_id::text AS outbox_id, o.title, o.created_at, p.reason
     FROM lan_prints p JOIN outbox o ON o.id = p.outbox_id AND o.tenant_id = p.tenant_id
     WHERE p.tenant_id = $1 AND p.status = 'held' ORDER BY p.device_id, p.seq`,
    [tenantId],
  );
  return r.rows.map((x) => ({ ...x, seq: Number(x.seq) }));
}

/** Staff decision on a held ticket; false when it is not held (any more). Audited. In a transaction. */
export async function decideHeld(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  seq: number,
  decision: 'release' | 'discard',
  actor: string,
): Promise<boolean> {
  const r = await q.query<{ outbox_id: string }>(
    `UPDATE lan_prints SET status = $4, reason = $5, updated_at = now()
     WHERE tenant_id = $1 AND device_id = $2 AND seq = $3 AND status = 'held' RETURNING outbox_id::text`,
    [tenantId, deviceId, seq, decision === 'release' ? 'released' : 'discarded', `${decision}d by ${actor}`],
  );
  const row = r.rows[0];
  if (!row) return false;
  if (decision === 'discard')
    await q.query(
      `UPDATE lan_inbox SET dropped_at = now() WHERE tenant_id = $1 AND device_id = $2 AND seq = $3`,
      [tenantId, deviceId, seq],
    );
  await appendAudit(q, [
    {
      tenantId,
      entity: 'outbox',
      entityId: row.outbox_id,
      actor,
      action: decision === 'release' ? 'print_released' : 'print_discarded',
      reason: `held ticket ${decision}d on printer ${deviceId}`,
      detail: { printer: deviceId, seq },
    },
  ]);
  return true;
}

export async function holdAfterMin(q: Queryable, tenantId: string): Promise<number> {
  const r = await q.query<{ m: number }>('SELECT printer_hold_after_min AS m FROM tenants WHERE id = $1', [
    tenantId,
  ]);
  return Number(r.rows[0]?.m ?? 15);
}

export async function setHoldAfterMin(
  q: Queryable,
  tenantId: string,
  minutes: number,
  actor: string,
): Promise<void> {
  await q.query('UPDATE tenants SET printer_hold_after_min = $2, updated_at = now() WHERE id = $1', [
    tenantId,
    minutes,
  ]);
  await appendAudit(q, [
    {
      tenantId,
      entity: 'tenant',
      entityId: tenantId,
      actor,
      action: 'printer_hold_changed',
      reason: `hold after ${minutes} min`,
    },
  ]);
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
