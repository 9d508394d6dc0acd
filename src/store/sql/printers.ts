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

// The print queue and held tickets were part of this module; their importers keep this path.
export {
  ackDonePrefix,
  auditPrint,
  pendingEntries,
  printerQueues,
  recordPrint,
  type PrintEntry,
  type PrintStatus,
  type PrintUpdate,
} from './print-queue.ts';
export { decideHeld, holdAfterMin, listHeld, setHoldAfterMin, type HeldTicket } from './held-tickets.ts';

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
