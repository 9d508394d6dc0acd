import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './driver.ts';
import { tenantFromJson, type TenantRow } from './rows.ts';

export type TokenRole = 'owner' | 'device' | 'service';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Tokens carry a role prefix for humans and 32 random bytes of entropy. */
export function newToken(role: TokenRole): string {
  return `mz_${role}_${randomBytes(32).toString('base64url')}`;
}

export interface Principal {
  tenant: TenantRow;
  role: TokenRole;
  subject: string;
  tokenHash: string;
  expiresAt: Date | null;
}

export async function storeToken(
  q: Queryable,
  t: {
    token: string;
    tenantId: string;
    role: TokenRole;
    subject: string;
    label?: string;
    expiresAt?: Date | null;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO api_tokens (token_hash, tenant_id, role, subject, label, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (token_hash) DO NOTHING`,
    [hashToken(t.token), t.tenantId, t.role, t.subject, t.label ?? null, t.expiresAt ?? null],
  );
}

/**
 * Announced after a token or tenant row changes (writers publish it after COMMIT; a trigger NOTIFYs
 * it for writes from anywhere): cached principals are dropped.
 */
export const AUTH_CHANGED = 'auth_changed';

/** Looks a bearer token up by its hash (the hash lookup itself is the constant-time step). */
export async function findPrincipal(q: Queryable, token: string): Promise<Principal | null> {
  return findPrincipalByHash(q, hashToken(token));
}

export async function findPrincipalByHash(q: Queryable, tokenHash: string): Promise<Principal | null> {
  const r = await q.query<{
    role: TokenRole;
    subject: string;
    token_hash: string;
    expires_at: Date | null;
    tenant: TenantRow | string;
  }>(
    `SELECT t.role, t.subject, t.token_hash, t.expires_at, row_to_json(n.*) AS tenant
     FROM api_tokens t JOIN tenants n ON n.id = t.tenant_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [tokenHash],
    { name: 'find_principal' },
  );
  const row = r.rows[0];
  if (!row) return null;
  const tenant = tenantFromJson(row.tenant);
  return {
    tenant,
    role: row.role,
    subject: row.subject,
    tokenHash: row.token_hash,
    expiresAt: row.expires_at,
  };
}

export async function revokeToken(q: Queryable, tokenHash: string): Promise<boolean> {
  const r = await q.query(
    'UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL',
    [tokenHash],
  );
  q.publish(AUTH_CHANGED, 'api_tokens');
  return r.rowCount > 0;
}
