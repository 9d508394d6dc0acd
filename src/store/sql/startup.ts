import type { Queryable } from '../driver.ts';
import type { TenantRow } from '../rows.ts';

/** Tenants with at least one queued outbox row (re-evaluated when the service starts). */
export async function tenantsWithQueued(q: Queryable): Promise<TenantRow[]> {
  const r = await q.query<TenantRow>(
    `SELECT t.* FROM tenants t WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.tenant_id = t.id AND o.status = 'queued')`,
  );
  return r.rows;
}
