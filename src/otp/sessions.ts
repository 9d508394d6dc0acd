import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { hashToken, newToken, revokeToken, storeToken } from '../store/tokens.ts';

export type SignInMethod = 'otp' | 'firebase';

export interface Session {
  token: string;
  expiresAt: string;
}

/** Short, non-secret handle of a token for audit rows (a prefix of its SHA-256). */
export function sessionHandle(tokenHash: string): string {
  return tokenHash.slice(0, 16);
}

/**
 * An owner session: an opaque `mz_owner_…` bearer token, stored only as its SHA-256 hash in
 * api_tokens with an expiry, revocable with logout. The token is shown once, in this answer.
 */
export async function issueSession(
  q: Queryable,
  s: {
    tenantId: string;
    ownerId: string;
    method: SignInMethod;
    nowMs: number;
    ttlS: number;
    actor: string;
    detail?: Record<string, unknown>;
  },
): Promise<Session> {
  const token = newToken('owner');
  const expiresAt = new Date(s.nowMs + s.ttlS * 1000);
  await storeToken(q, {
    token,
    tenantId: s.tenantId,
    role: 'owner',
    subject: s.ownerId,
    label: `session:${s.method}`,
    expiresAt,
  });
  await appendAudit(q, [
    {
      tenantId: s.tenantId,
      entity: 'session',
      entityId: sessionHandle(hashToken(token)),
      actor: s.actor,
      action: 'created',
      to: 'active',
      detail: { owner: s.ownerId, method: s.method, expiresAt: expiresAt.toISOString(), ...s.detail },
    },
  ]);
  return { token, expiresAt: expiresAt.toISOString() };
}

export async function revokeSession(
  q: Queryable,
  p: { tenantId: string; tokenHash: string; actor: string },
): Promise<boolean> {
  const done = await revokeToken(q, p.tokenHash);
  if (done) {
    await appendAudit(q, [
      {
        tenantId: p.tenantId,
        entity: 'session',
        entityId: sessionHandle(p.tokenHash),
        actor: p.actor,
        action: 'revoked',
        from: 'active',
        to: 'revoked',
        reason: 'logout',
      },
    ]);
  }
  return done;
}
