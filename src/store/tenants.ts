import type { Queryable } from './driver.ts';
import type { TenantRow } from './rows.ts';
import { appendAudit } from './sql/audit.ts';

export interface NewTenant {
  id: string;
  name: string;
  country: string;
  currency: string;
  timezone: string;
  locale: string;
  optIns?: Record<string, boolean>;
}

/** A tenant as the API shows it (no opt-ins, no internal columns). */
export function tenantView(t: TenantRow): Omit<NewTenant, 'optIns'> {
  return {
    id: t.id,
    name: t.name,
    country: t.country,
    currency: t.currency,
    timezone: t.timezone,
    locale: t.locale,
  };
}

export async function getTenant(q: Queryable, id: string): Promise<TenantRow | null> {
  const r = await q.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [id]);
  return r.rows[0] ?? null;
}

/** Creates a tenant; returns null when the id is taken. */
export async function createTenant(q: Queryable, t: NewTenant, actor: string): Promise<TenantRow | null> {
  const r = await q.query<TenantRow>(
    `INSERT INTO tenants (id, name, country, currency, timezone, locale, opt_ins)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (id) DO NOTHING RETURNING *`,
    [t.id, t.name, t.country, t.currency, t.timezone, t.locale, JSON.stringify(t.optIns ?? {})],
  );
  const row = r.rows[0] ?? null;
  if (row) {
    await appendAudit(q, [
      { tenantId: row.id, entity: 'tenant', entityId: row.id, actor, action: 'created', to: 'active' },
    ]);
  }
  return row;
}
