import type { Queryable } from '../driver.ts';

export interface DoneRow {
  outbox_id: string;
  device_id: string;
  device_name: string;
  done_at: Date | string;
}

/** The outbox row behind a device's live inbox entry. */
export async function entryOutboxId(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  seq: number,
): Promise<string | null> {
  const r = await q.query<{ outbox_id: string }>(
    `SELECT outbox_id::text AS outbox_id FROM lan_inbox
     WHERE tenant_id = $1 AND device_id = $2 AND seq = $3 AND dropped_at IS NULL`,
    [tenantId, deviceId, seq],
  );
  return r.rows[0]?.outbox_id ?? null;
}

/** Every device with a live entry of the row, with the entry's seq. */
export async function entryTargets(
  q: Queryable,
  tenantId: string,
  outboxId: string,
): Promise<{ device_id: string; seq: number }[]> {
  const r = await q.query<{ device_id: string; seq: number }>(
    `SELECT device_id, seq FROM lan_inbox WHERE outbox_id = $1 AND tenant_id = $2 AND dropped_at IS NULL`,
    [outboxId, tenantId],
  );
  return r.rows;
}

/** Stores the done mark unless the row has one already (then null). */
export async function insertDone(
  q: Queryable,
  tenantId: string,
  outboxId: string,
  device: { id: string; name: string },
): Promise<DoneRow | null> {
  const r = await q.query<DoneRow>(
    `INSERT INTO lan_done (tenant_id, outbox_id, device_id, device_name) VALUES ($1, $2, $3, $4)
     ON CONFLICT (outbox_id, tenant_id) DO NOTHING
     RETURNING outbox_id::text AS outbox_id, device_id, device_name, done_at`,
    [tenantId, outboxId, device.id, device.name],
  );
  return r.rows[0] ?? null;
}

export async function doneMark(q: Queryable, tenantId: string, outboxId: string): Promise<DoneRow | null> {
  const r = await q.query<DoneRow>(
    `SELECT outbox_id::text AS outbox_id, device_id, device_name, done_at FROM lan_done WHERE outbox_id = $1 AND tenant_id = $2`,
    [outboxId, tenantId],
  );
  return r.rows[0] ?? null;
}

/** The done mark, locked, and whether it is younger than `windowMs`. */
export async function lockDoneMark(
  q: Queryable,
  tenantId: string,
  outboxId: string,
  windowMs: number,
): Promise<(DoneRow & { fresh: boolean }) | null> {
  const r = await q.query<DoneRow & { fresh: boolean }>(
    `SELECT outbox_id::text AS outbox_id, device_id, device_name, done_at,
       done_at > now() - make_interval(secs => $3::double precision / 1000) AS fresh
     FROM lan_done WHERE outbox_id = $1 AND tenant_id = $2 FOR UPDATE`,
    [outboxId, tenantId, windowMs],
  );
  return r.rows[0] ?? null;
}

export async function deleteDone(q: Queryable, tenantId: string, outboxId: string): Promise<void> {
  await q.query(`DELETE FROM lan_done WHERE outbox_id = $1 AND tenant_id = $2`, [outboxId, tenantId]);
}

export interface ReadMove {
  id: string;
  tenant_id: string;
  adapter: string;
  status: string;
  from_status: string;
}

/** Moves a sent or delivered row to `read`; null when it is in any other status. */
export async function markRowRead(
  q: Queryable,
  tenantId: string,
  outboxId: string,
  reason: string,
): Promise<ReadMove | null> {
  const r = await q.query<ReadMove>(
    `WITH old AS (SELECT id, status FROM outbox WHERE id = $1 AND tenant_id = $2 AND status IN ('sent', 'delivered') FOR UPDATE)
     UPDATE outbox o SET status = 'read', reason = $3, updated_at = now() FROM old WHERE o.id = old.id
     RETURNING o.id::text AS id, o.tenant_id, o.adapter, o.status, old.status AS from_status`,
    [outboxId, tenantId, reason],
  );
  return r.rows[0] ?? null;
}
