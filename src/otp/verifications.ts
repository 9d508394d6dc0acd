import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';

export type VerificationMethod = 'twilio' | 'test_number' | 'decoy';
export type VerificationStatus = 'pending' | 'approved' | 'expired' | 'dead' | 'superseded';

export interface VerificationRow {
  id: string;
  tenant_id: string;
  phone: string;
  owner_id: string | null;
  method: VerificationMethod;
  provider_sid: string | null;
  status: VerificationStatus;
  checks: number;
  max_checks: number;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  client_ip: string | null;
  outbox_id: string | null;
}

const COLS = 'id, tenant_id, phone, owner_id, method, provider_sid, status, checks, max_checks, created_at, expires_at, used_at, client_ip, outbox_id';

function norm(r: VerificationRow): VerificationRow {
  return { ...r, checks: Number(r.checks), max_checks: Number(r.max_checks), created_at: new Date(r.created_at), expires_at: new Date(r.expires_at) };
}

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
  const old = await q.query<{ id: string; checks: number; provider_sid: string | null; method: string; expires_at: Date }>(
    `UPDATE otp_verifications SET status = 'superseded'
     WHERE tenant_id = $1 AND phone = $2 AND status = 'pending'
     RETURNING id, checks, provider_sid, method, expires_at`,
    [v.tenantId, v.phone],
  );
  let inherited = 0;
  for (const o of old.rows) {
    const same = v.method === 'twilio' ? o.provider_sid !== null && o.provider_sid === v.providerSid : o.method === v.method && new Date(o.expires_at) > now;
    if (same) inherited = Math.max(inherited, Number(o.checks));
  }
  const r = await q.query<VerificationRow>(
    `INSERT INTO otp_verifications (id, tenant_id, phone, owner_id, method, provider_sid, status, checks, max_checks, created_at, expires_at, client_ip, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12) RETURNING ${COLS}`,
    [v.id, v.tenantId, v.phone, v.ownerId, v.method, v.providerSid, inherited, v.maxChecks, now, new Date(v.nowMs + v.ttlS * 1000), v.clientIp, v.outboxId],
  );
  await appendAudit(q, [
    ...old.rows.map((o) => ({ tenantId: v.tenantId, entity: 'otp' as const, entityId: o.id, actor: v.actor, action: 'superseded', from: 'pending', to: 'superseded', reason: 'a newer code was sent to this phone' })),
    { tenantId: v.tenantId, entity: 'otp', entityId: v.id, actor: v.actor, action: 'started', to: 'pending', detail: { outboxId: v.outboxId, checksCarried: inherited } },
  ]);
  return norm(r.rows[0]!);
}

export async function getVerification(q: Queryable, id: string): Promise<VerificationRow | null> {
  const r = await q.query<VerificationRow>(`SELECT ${COLS} FROM otp_verifications WHERE id = $1`, [id]);
  return r.rows[0] ? norm(r.rows[0]) : null;
}

/**
 * Takes one check from the verification's budget before the code is looked at, atomically: parallel
 * guesses cannot exceed max_checks. Null when the verification is not pending, expired or spent.
 */
export async function reserveCheck(q: Queryable, id: string, nowMs: number): Promise<VerificationRow | null> {
  const r = await q.query<VerificationRow>(
    `UPDATE otp_verifications SET checks = checks + 1
     WHERE id = $1 AND status = 'pending' AND checks < max_checks AND expires_at > $2
     RETURNING ${COLS}`,
    [id, new Date(nowMs)],
  );
  return r.rows[0] ? norm(r.rows[0]) : null;
}

/** Moves a pending verification on (audited); false when it was no longer pending. */
export async function settleVerification(
  q: Queryable,
  v: { id: string; tenantId: string; to: Exclude<VerificationStatus, 'pending' | 'superseded'>; nowMs: number; actor: string; reason: string; detail?: unknown },
): Promise<boolean> {
  const r = await q.query(
    `UPDATE otp_verifications SET status = $2, used_at = CASE WHEN $2 = 'approved' THEN $3::timestamptz ELSE used_at END
     WHERE id = $1 AND status = 'pending'`,
    [v.id, v.to, new Date(v.nowMs)],
  );
  if (r.rowCount === 0) return false;
  await appendAudit(q, [{ tenantId: v.tenantId, entity: 'otp', entityId: v.id, actor: v.actor, action: v.to, from: 'pending', to: v.to, reason: v.reason, detail: v.detail }]);
  return true;
}
