import { AppError } from '../core/errors.ts';
import type { Db, Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { AUTH_CHANGED, findPrincipal, newToken, storeToken } from '../store/tokens.ts';
import type { TenantRow } from '../store/rows.ts';
import {
  activeDevice,
  activeDevices,
  dropUnackedEntries,
  insertDevice,
  lockActiveDevice,
  markDeviceRevoked,
  revokeDeviceTokenRows,
  type DeviceRow,
} from '../store/sql/lan-devices.ts';

import type { DeviceRole } from '../core/devices.ts';
export { DEVICE_ROLES, type DeviceRole } from '../core/devices.ts';
export { DEVICE_ID_RE } from '../core/devices.ts';

export type { DeviceRow };

export interface NewDevice {
  tenantId: string;
  id: string;
  role: DeviceRole;
  name: string;
  actor: string;
}

async function revokeDeviceTokens(q: Queryable, tenantId: string, deviceId: string): Promise<number> {
  const n = await revokeDeviceTokenRows(q, tenantId, deviceId);
  q.publish(AUTH_CHANGED, 'api_tokens');
  return n;
}

async function mintToken(q: Queryable, tenantId: string, deviceId: string): Promise<string> {
  const token = newToken('device');
  await storeToken(q, { token, tenantId, role: 'device', subject: deviceId, label: `device:${deviceId}` });
  return token;
}

/**
 * Registers a device and mints its token (shown once). A revoked id may be registered again: it
 * keeps its seq counter, so a device that remembers an old seq never mistakes new entries for old.
 * Call inside a transaction.
 */
export async function registerDevice(
  q: Queryable,
  d: NewDevice,
): Promise<{ device: DeviceRow; token: string }> {
  const device = await insertDevice(q, d);
  if (!device) throw new AppError('device_exists', `A device with id "${d.id}" is already registered.`);
  const token = await mintToken(q, d.tenantId, d.id);
  await appendAudit(q, [
    {
      tenantId: d.tenantId,
      entity: 'device',
      entityId: d.id,
      actor: d.actor,
      action: 'registered',
      to: 'active',
      reason: `${d.role} device "${d.name}" registered`,
      detail: { role: d.role },
    },
  ]);
  return { device, token };
}

/** Replaces a device's token (the old one stops working at once); its inbox is kept. In a transaction. */
export async function rotateDeviceToken(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  actor: string,
): Promise<string> {
  if (!(await lockActiveDevice(q, tenantId, deviceId))) throw new AppError('not_found', 'No such device.');
  const revoked = await revokeDeviceTokens(q, tenantId, deviceId);
  const token = await mintToken(q, tenantId, deviceId);
  await appendAudit(q, [
    {
      tenantId,
      entity: 'device',
      entityId: deviceId,
      actor,
      action: 'token_rotated',
      reason: `${revoked} old token(s) revoked`,
    },
  ]);
  return token;
}

/**
 * Revokes a device: its token stops working, and entries it never acked are dropped (its rows stay
 * `sent`: not every target acknowledged them). In a transaction.
 */
export async function revokeDevice(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  actor: string,
): Promise<boolean> {
  if (!(await markDeviceRevoked(q, tenantId, deviceId))) return false;
  await revokeDeviceTokens(q, tenantId, deviceId);
  const dropped = await dropUnackedEntries(q, tenantId, deviceId);
  await appendAudit(q, [
    {
      tenantId,
      entity: 'device',
      entityId: deviceId,
      actor,
      action: 'revoked',
      from: 'active',
      to: 'revoked',
      reason: `revoked by ${actor}`,
      detail: { droppedEntries: dropped },
    },
  ]);
  return true;
}

export async function listDevices(q: Queryable, tenantId: string): Promise<DeviceRow[]> {
  return activeDevices(q, tenantId);
}

export async function getDevice(q: Queryable, tenantId: string, deviceId: string): Promise<DeviceRow | null> {
  return activeDevice(q, tenantId, deviceId);
}

export interface DeviceIdentity {
  tenant: TenantRow;
  device: DeviceRow;
  tokenHash: string;
}

/** A device token → its tenant and active device; null for any other token or a revoked device. */
export async function authenticateDevice(q: Queryable, token: string): Promise<DeviceIdentity | null> {
  const p = await findPrincipal(q, token);
  if (!p || p.role !== 'device') return null;
  const device = await getDevice(q, p.tenant.id, p.subject);
  if (!device) return null;
  return { tenant: p.tenant, device, tokenHash: p.tokenHash };
}

/** The demo tenant's POS screen, so the seeded "Kitchen ticket ready" item has an inbox to land in. */
export const DEMO_DEVICE = { id: 'pos-desktop-01', role: 'pos', name: 'POS desktop 01' } as const;

/**
 * Registers the demo device unless it exists (two processes seeding at once: the second finds it).
 * Its token is never shown; the owner gets one with POST /api/v1/lan/devices/pos-desktop-01/token.
 */
export async function ensureDemoDevice(db: Db, tenantId: string): Promise<void> {
  try {
    await db.tx((q) => registerDevice(q, { tenantId, ...DEMO_DEVICE, actor: 'system:demo-seed' }), {
      tenantId,
    });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'device_exists')) throw err;
  }
}
