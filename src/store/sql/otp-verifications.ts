import type { Queryable } from '../driver.ts';

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

/** A pending verification that a newer start superseded. */
export interface SupersededRow {
  id: string;
  checks: number;
  provider_sid: string | null;
  method: string;
  expires_at: Date;
}

const COLS =
  'id, tenant_id, phone, owner_id, method, provider_sid, status, checks, max_checks, created_at, expires_at, used_at, client_ip, outbox_id';

// Counts may come back as strings and times as text, depending on the driver.
function norm(r: VerificationRow): VerificationRow {
  return {
    ...r,
    checks: Number(r.checks),
    max_checks: Number(r.max_checks),
    created_at: new Date(r.created_at),
    expires_at: new Date(r.expires_at),
  };
}

/** Marks every pending verification of the tenant and phone superseded; the rows it moved. */
export async function supersedePending(
  q: Queryable,
  tenantId: string,
  phone: string,
): Promise<SupersededRow[]> {
  const r = await q.query<SupersededRow>(
    `UPDATE otp_verifications SET status = 'superseded'
     WHERE tenant_id = $1 AND phone = $2 AND status = 'pending'
     RETURNING id, checks, provider_sid, method, expires_at`,
    [tenantId, phone],
  );
  return r.rows.map((o) => ({ ...o, checks: Number(o.checks), expires_at: new Date(o.expires_at) }));
}

/** Inserts a pending verification. */
export async function insertVerification(
  q: Queryable,
  v: {
    id: string;
    tenantId: string;
    phone: string;
    ownerId: string | null;
    method: VerificationMethod;
    providerSid: string | null;
    checks: number;
    maxChecks: number;
    createdAt: Date;
    expiresAt: Date;
    clientIp: string;
    outboxId: string | null;
  },
): Promise<VerificationRow> {
  const r = await q.query<VerificationRow>(
    `INSERT INTO otp_verifications (id, tenant_id, phone, owner_id, method, provider_sid, status, checks, max_checks, created_at, expires_at, client_ip, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12) RETURNING ${COLS}`,
    [
      v.id,
      v.tenantId,
      v.phone,
      v.ownerId,
      v.method,
      v.providerSid,
      v.checks,
      v.maxChecks,
      v.createdAt,
      v.expiresAt,
      v.clientIp,
      v.outboxId,
    ],
  );
  return norm(r.rows[0]!);
}

export async function selectVerification(q: Queryable, id: string): Promise<VerificationRow | null> {
  const r = await q.query<VerificationRow>(`SELECT ${COLS} FROM otp_verifications WHERE id = $1`, [id]);
  return r.rows[0] ? norm(r.rows[0]) : null;
}

/** Adds one check to a pending, unexpired verification with checks left; null when there is none. */
export async function incrementChecks(q: Queryable, id: string, at: Date): Promise<VerificationRow | null> {
  const r = await q.query<VerificationRow>(
    `UPDATE otp_verifications SET checks = checks + 1
     WHERE id = $1 AND status = 'pending' AND checks < max_checks AND expires_at > $2
     RETURNING ${COLS}`,
    [id, at],
  );
  return r.rows[0] ? norm(r.rows[0]) : null;
}

/** Moves a pending verification to `to` (approval stamps used_at); false when it was no longer pending. */
export async function updatePendingStatus(
  q: Queryable,
  id: string,
  to: VerificationStatus,
  at: Date,
): Promise<boolean> {
  const r = await q.query(
    `UPDATE otp_verifications SET status = $2, used_at = CASE WHEN $2 = 'approved' THEN $3::timestamptz ELSE used_at END
     WHERE id = $1 AND status = 'pending'`,
    [id, to, at],
  );
  return r.rowCount !== 0;
}
