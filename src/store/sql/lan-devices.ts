import type { Queryable } from '../driver.ts';

/** The roles lan_devices allows (the LAN module lists them for validation). */
import type { DeviceRole } from '../../core/devices.ts';

export type { DeviceRole };

export interface DeviceRow {
  tenant_id: string;
  id: string;
  role: DeviceRole;
  name: string;
  last_seq: number;
  created_at: Date;
  revoked_at: Date | null;
  last_seen_at: Date | null;
  connected_hub: string | null;
}

/** Revokes a device's live tokens; returns how many. */
export async function revokeDeviceTokenRows(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<number> {
  const r = await q.query(
    `UPDATE api_tokens SET revoked_at = now()
     WHERE tenant_id = $1 AND role = 'device' AND subject = $2 AND revoked_at IS NULL`,
    [tenantId, deviceId],
  );
  return r.rowCount;
}

/**
 * Inserts a device, or brings a revoked one back (keeping its seq counter), with its ack row.
 * Null when an active device already has the id.
 */
export async function insertDevice(
  q: Queryable,
  d: { tenantId: string; id: string; role: DeviceRole; name: string },
): Promise<DeviceRow | null> {
  const r = await q.query<DeviceRow>(
    `INSERT INTO lan_devices (tenant_id, id, role, name) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, id) DO UPDATE SET role = EXCLUDED.role, name = EXCLUDED.name, revoked_at = NULL,
       connected_hub = NULL, updated_at = now()
       WHERE lan_devices.revoked_at IS NOT NULL
     RETURNING *`,
    [d.tenantId, d.id, d.role, d.name],
  );
  const device = r.rows[0];
  if (!device) return null;
  await q.query(`INSERT INTO lan_device_acks (tenant_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
    d.tenantId,
    d.id,
  ]);
  return device;
}

/** Locks an active device; false when there is none. */
export async function lockActiveDevice(q: Queryable, tenantId: string, deviceId: string): Promise<boolean> {
  const r = await q.query(
    'SELECT 1 FROM lan_devices WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL FOR UPDATE',
    [tenantId, deviceId],
  );
  return r.rows.length > 0;
}

/** Marks an active device revoked; false when there was none. */
export async function markDeviceRevoked(q: Queryable, tenantId: string, deviceId: string): Promise<boolean> {
  const r = await q.query(
    `UPDATE lan_devices SET revoked_at = now(), connected_hub = NULL, updated_at = now()
     WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
    [tenantId, deviceId],
  );
  return r.rowCount > 0;
}

/** Drops the device's inbox entries past its acked seq; returns how many. */
export async function dropUnackedEntries(q: Queryable, tenantId: string, deviceId: string): Promise<number> {
  const r = await q.query(
    `UPDATE lan_inbox i SET dropped_at = now()
     WHERE i.tenant_id = $1 AND i.device_id = $2 AND i.dropped_at IS NULL
       AND i.seq > coalesce((SELECT a.acked_seq FROM lan_device_acks a WHERE a.tenant_id = $1 AND a.device_id = $2), 0)`,
    [tenantId, deviceId],
  );
  return r.rowCount;
}

export async function activeDevices(q: Queryable, tenantId: string): Promise<DeviceRow[]> {
  const r = await q.query<DeviceRow>(
    `SELECT * FROM lan_devices WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY id`,
    [tenantId],
  );
  return r.rows;
}

export async function activeDevice(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<DeviceRow | null> {
  const r = await q.query<DeviceRow>(
    'SELECT * FROM lan_devices WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL',
    [tenantId, deviceId],
  );
  return r.rows[0] ?? null;
}
