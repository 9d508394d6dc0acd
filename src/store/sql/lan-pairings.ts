import type { Queryable } from '../driver.ts';
import type { DeviceRole } from './lan-devices.ts';

export interface OpenPairing {
  id: string;
  tenant_id: string;
  role: DeviceRole;
  name: string;
  device_id: string | null;
}

export async function insertPairing(
  q: Queryable,
  p: {
    id: string;
    tenantId: string;
    codeHash: string;
    role: DeviceRole;
    name: string;
    deviceId: string | null;
    createdBy: string;
    expiresAt: Date;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO lan_pairings (id, tenant_id, code_hash, role, name, device_id, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [p.id, p.tenantId, p.codeHash, p.role, p.name, p.deviceId, p.createdBy, p.expiresAt],
  );
}

/** The open (unused, alive, unexpired, under `maxFailures`) pairing with this code hash, locked. */
export async function lockOpenPairing(
  q: Queryable,
  codeHash: string,
  maxFailures: number,
): Promise<OpenPairing | null> {
  const r = await q.query<OpenPairing>(
    `SELECT id::text AS id, tenant_id, role, name, device_id FROM lan_pairings
     WHERE code_hash = $1 AND used_at IS NULL AND killed_at IS NULL AND expires_at > now()
       AND failures < $2
     FOR UPDATE`,
    [codeHash, maxFailures],
  );
  return r.rows[0] ?? null;
}

export async function markPairingUsed(q: Queryable, id: string, deviceId: string): Promise<void> {
  await q.query(`UPDATE lan_pairings SET used_at = now(), used_by_device = $2 WHERE id = $1`, [id, deviceId]);
}

/** Charges a failure to every open pairing, killing those that reach `maxFailures`. */
export async function chargeOpenPairings(
  q: Queryable,
  maxFailures: number,
): Promise<{ id: string; tenant_id: string; failures: number }[]> {
  const r = await q.query<{ id: string; tenant_id: string; failures: number }>(
    `UPDATE lan_pairings SET failures = failures + 1,
       killed_at = CASE WHEN failures + 1 >= $1 THEN now() ELSE NULL END
     WHERE used_at IS NULL AND killed_at IS NULL AND expires_at > now()
     RETURNING id::text AS id, tenant_id, failures`,
    [maxFailures],
  );
  return r.rows;
}
