import type { Queryable } from '../driver.ts';
import type { TenantRow } from '../rows.ts';

/** The tenant row, locked for an update of its policy. */
export async function lockTenant(q: Queryable, tenantId: string): Promise<TenantRow | null> {
  const r = await q.query<TenantRow>('SELECT * FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
  return r.rows[0] ?? null;
}

export async function setTenantOptIns(
  q: Queryable,
  tenantId: string,
  optIns: TenantRow['opt_ins'],
): Promise<TenantRow> {
  const r = await q.query<TenantRow>(
    'UPDATE tenants SET opt_ins = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *',
    [tenantId, JSON.stringify(optIns)],
  );
  return r.rows[0]!;
}
