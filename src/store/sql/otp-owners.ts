import type { Queryable } from '../driver.ts';

export interface OwnerPhone {
  tenant_id: string;
  phone: string;
  owner_id: string;
}

/** The owner a phone belongs to in a tenant, or null. */
export async function selectOwnerByPhone(
  q: Queryable,
  tenantId: string,
  phone: string,
): Promise<OwnerPhone | null> {
  const r = await q.query<OwnerPhone>(
    'SELECT tenant_id, phone, owner_id FROM owners WHERE tenant_id = $1 AND phone = $2',
    [tenantId, phone],
  );
  return r.rows[0] ?? null;
}

/** Inserts an owner phone; false when the tenant already has that phone. */
export async function insertOwnerPhone(
  q: Queryable,
  o: { tenantId: string; ownerId: string; phone: string },
): Promise<boolean> {
  const r = await q.query(
    'INSERT INTO owners (tenant_id, phone, owner_id) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, phone) DO NOTHING',
    [o.tenantId, o.phone, o.ownerId],
  );
  return r.rowCount !== 0;
}

/** Deletes an owner phone; the owner it belonged to, or null when no owner had it. */
export async function deleteOwnerPhone(
  q: Queryable,
  tenantId: string,
  phone: string,
): Promise<string | null> {
  const r = await q.query<{ owner_id: string }>(
    'DELETE FROM owners WHERE tenant_id = $1 AND phone = $2 RETURNING owner_id',
    [tenantId, phone],
  );
  return r.rows[0]?.owner_id ?? null;
}

/** Replaces a tenant's OTP destination allow-list. */
export async function updateOtpAllowedPrefixes(
  q: Queryable,
  tenantId: string,
  prefixes: readonly string[],
): Promise<void> {
  await q.query('UPDATE tenants SET otp_allowed_prefixes = $2, updated_at = now() WHERE id = $1', [
    tenantId,
    [...prefixes],
  ]);
}
