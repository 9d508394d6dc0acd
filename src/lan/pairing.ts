import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import type { Db, Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import {
  chargeOpenPairings,
  insertPairing,
  lockOpenPairing,
  markPairingUsed,
} from '../store/sql/lan-pairings.ts';
import { getDevice, registerDevice, rotateDeviceToken, type DeviceRole } from './devices.ts';

/** No 0/O, 1/I/L: a code read off a screen and typed on a tablet must not be ambiguous. */
export const PAIRING_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 8;
/** How long a code can be used. */
export const PAIRING_TTL_MS = 10 * 60_000;
/** Wrong tries that kill an open code. */
export const PAIRING_MAX_FAILURES = 5;

/** 8 characters of a 31-letter alphabet, drawn without modulo bias (~39.6 bits). */
export function newPairingCode(): string {
  let s = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) s += PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)];
  return s;
}

/** What staff typed → the canonical code (case, spaces and dashes ignored); null when it cannot be one. */
export function normalizePairingCode(raw: string): string | null {
  const c = raw.toUpperCase().replace(/[\s-]/g, '');
  if (c.length !== PAIRING_CODE_LENGTH) return null;
  for (const ch of c) if (!PAIRING_ALPHABET.includes(ch)) return null;
  return c;
}

export function hashPairingCode(code: string): string {
  return createHash('sha256').update(`mupza-pairing:${code}`).digest('hex');
}

export interface NewPairing {
  tenantId: string;
  role: DeviceRole;
  name: string;
  deviceId?: string;
  actor: string;
}

/** Creates a pairing code (returned once; only its hash is stored). In a tenant transaction. */
export async function createPairing(q: Queryable, p: NewPairing): Promise<{ code: string; expiresAt: Date }> {
  if (p.deviceId !== undefined && !(await getDevice(q, p.tenantId, p.deviceId))) {
    throw new AppError('not_found', 'No such (active) device to pair again.');
  }
  const code = newPairingCode();
  const expiresAt = new Date(Date.now() + PAIRING_TTL_MS);
  const id = randomUUID();
  await insertPairing(q, {
    id,
    tenantId: p.tenantId,
    codeHash: hashPairingCode(code),
    role: p.role,
    name: p.name,
    deviceId: p.deviceId ?? null,
    createdBy: p.actor,
    expiresAt,
  });
  await appendAudit(q, [
    {
      tenantId: p.tenantId,
      entity: 'pairing',
      entityId: id,
      actor: p.actor,
      action: 'created',
      to: 'open',
      reason: `pairing code for ${p.role} device "${p.name}"`,
      detail: { role: p.role, deviceId: p.deviceId ?? null, expiresAt: expiresAt.toISOString() },
    },
  ]);
  return { code, expiresAt };
}

export interface Paired {
  deviceId: string;
  role: DeviceRole;
  name: string;
  token: string;
  tenantId: string;
}

/** A fresh device id from the role: `kitchen-7k3m9q`. */
function newDeviceId(role: string): string {
  return `${role}-${randomBytes(4).toString('hex')}`;
}

/**
 * Redeems a code: registers the device (or gives an existing one a new token) and marks the code
 * used, all in one transaction. A wrong code cannot be attributed to the code it was meant for, so
 * every wrong try is charged to every open code (a global lockout): at most 5 guesses, from all
 * addresses together, ever reach any open code. On a restaurant's hub there is one open code at a
 * time, which makes this exactly "5 wrong tries kill the code"; the per-address rate limit (in the
 * route) keeps one noisy client from doing it quickly.
 */
export async function redeemPairing(db: Db, rawCode: string, client: string): Promise<Paired> {
  const code = normalizePairingCode(rawCode);
  const hash = code === null ? null : hashPairingCode(code);
  const found = await db.tx(async (q) => {
    const p = await lockOpenPairing(q, hash ?? '', PAIRING_MAX_FAILURES);
    if (!p) return null;
    const actorless = { tenantId: p.tenant_id, role: p.role, name: p.name };
    let deviceId = p.device_id;
    let token: string;
    if (deviceId !== null && (await getDevice(q, p.tenant_id, deviceId))) {
      token = await rotateDeviceToken(q, p.tenant_id, deviceId, `pairing:${p.id}`);
    } else {
      deviceId ??= newDeviceId(p.role);
      ({ token } = await registerDevice(q, { ...actorless, id: deviceId, actor: `pairing:${p.id}` }));
    }
    await markPairingUsed(q, p.id, deviceId);
    await appendAudit(q, [
      {
        tenantId: p.tenant_id,
        entity: 'pairing',
        entityId: p.id,
        actor: `device:${deviceId}`,
        action: 'used',
        from: 'open',
        to: 'used',
        reason: `paired ${p.role} device "${p.name}" from ${client}`,
        detail: { deviceId, client },
      },
    ]);
    return { deviceId, role: p.role, name: p.name, token, tenantId: p.tenant_id } satisfies Paired;
  });
  if (found) return found;
  await chargeWrongTry(db, client);
  throw new AppError(
    'pairing_code_invalid',
    'This pairing code is not valid (wrong, expired or already used); ask the owner for a new one.',
  );
}

/** Counts a wrong try against every open code; codes reaching the limit are killed (audited). */
async function chargeWrongTry(db: Db, client: string): Promise<void> {
  await db.tx(async (q) => {
    const charged = await chargeOpenPairings(q, PAIRING_MAX_FAILURES);
    await appendAudit(
      q,
      charged
        .filter((x) => Number(x.failures) >= PAIRING_MAX_FAILURES)
        .map((x) => ({
          tenantId: x.tenant_id,
          entity: 'pairing' as const,
          entityId: x.id,
          actor: 'system:pairing',
          action: 'killed',
          from: 'open',
          to: 'killed',
          reason: `${PAIRING_MAX_FAILURES} wrong pairing codes tried (last from ${client})`,
          detail: { client },
        })),
    );
  });
}
