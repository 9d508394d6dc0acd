import type { Queryable } from '../driver.ts';
import { appendAudit } from './audit.ts';

// Tickets too old to print on their own wait for staff; the threshold is a tenant setting.

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
