import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import {
  incrementChecks,
  insertVerification,
  selectVerification,
  supersedePending,
  updatePendingStatus,
  type VerificationMethod,
  type VerificationRow,
  type VerificationStatus,
} from '../store/sql/otp-verifications.ts';

export type { VerificationMethod, VerificationRow, VerificationStatus };

export interface NewVerification {
  id: string;
  tenantId: string;
  phone: string;
  ownerId: string | null;
  method: VerificationMethod;
  providerSid: string | null;
  maxChecks: number;
  nowMs: number;
  ttlS: number;
  clientIp: string;
  outboxId: string | null;
  actor: string;
}

/**
 * Records a started verification. A pending one for the same tenant and phone is superseded (only
 * the newest id works) and, when it is the same provider verification (Twilio resends the same
 * code under the same sid while pending) or an unexpired local one, its checks carry over: a resend
 * never buys fresh guesses at the same code.
 */
export async function recordVerification(q: Queryable, v: NewVerification): Promise<VerificationRow> {
  const now = new Date(v.nowMs);
  const old = await supersedePending(q, v.tenantId, v.phone);
  let inherited = 0;
  for (const o of old) {
    const same =
      v.method === 'twilio'
        ? o.provider_sid !== null && o.provider_sid === v.providerSid
        : o.method === v.method && o.expires_at > now;
    if (same) inherited = Math.max(inherited, o.checks);
  }
  const row = await insertVerification(q, {
    id: v.id,
    tenantId: v.tenantId,
    phone: v.phone,
    ownerId: v.ownerId,
    method: v.method,
    providerSid: v.providerSid,
    checks: inherited,
    maxChecks: v.maxChecks,
    createdAt: now,
    expiresAt: new Date(v.nowMs + v.ttlS * 1000),
    clientIp: v.clientIp,
    outboxId: v.outboxId,
  });
  await appendAudit(q, [
    ...old.map((o) => ({
      tenantId: v.tenantId,
      entity: 'otp' as const,
      entityId: o.id,
      actor: v.actor,
      action: 'superseded',
      from: 'pending',
      to: 'superseded',
      reason: 'a newer code was sent to this phone',
    })),
    {
      tenantId: v.tenantId,
      entity: 'otp',
      entityId: v.id,
      actor: v.actor,
      action: 'started',
      to: 'pending',
      detail: { outboxId: v.outboxId, checksCarried: inherited },
    },
  ]);
  return row;
}

export async function getVerification(q: Queryable, id: string): Promise<VerificationRow | null> {
  return selectVerification(q, id);
}

/**
 * Takes one check from the verification's budget before the code is looked at, atomically: parallel
 * guesses cannot exceed max_checks. Null when the verification is not pending, expired or spent.
 */
export async function reserveCheck(q: Queryable, id: string, nowMs: number): Promise<VerificationRow | null> {
  return incrementChecks(q, id, new Date(nowMs));
}

/** Moves a pending verification on (audited); false when it was no longer pending. */
export async function settleVerification(
  q: Queryable,
  v: {
    id: string;
    tenantId: string;
    to: Exclude<VerificationStatus, 'pending' | 'superseded'>;
    nowMs: number;
    actor: string;
    reason: string;
    detail?: unknown;
  },
): Promise<boolean> {
  if (!(await updatePendingStatus(q, v.id, v.to, new Date(v.nowMs)))) return false;
  await appendAudit(q, [
    {
      tenantId: v.tenantId,
      entity: 'otp',
      entityId: v.id,
      actor: v.actor,
      action: v.to,
      from: 'pending',
      to: v.to,
      reason: v.reason,
      detail: v.detail,
    },
  ]);
  return true;
}
