import type { Channel } from '../core/channels.ts';
import { AppError } from '../core/errors.ts';
import type { Db } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { lockTenant, setTenantOptIns } from '../store/sql/tenant-policy.ts';
import { AUTH_CHANGED } from '../store/tokens.ts';

/** Changes a tenant's channel opt-ins, auditing each one that changed; returns the updated tenant. */
export async function updateOptIns(
  db: Db,
  tenant: TenantRow,
  optIns: Partial<Record<Channel, boolean>>,
  actor: string,
): Promise<TenantRow> {
  return db.tx(
    async (q) => {
      const before = await lockTenant(q, tenant.id);
      if (!before) throw new AppError('not_found', 'No such tenant.');
      const next = { ...before.opt_ins, ...optIns };
      const updated = await setTenantOptIns(q, tenant.id, next);
      // Principals cache their tenant row: a changed policy must reach them.
      q.publish(AUTH_CHANGED, 'tenants');
      const changes = Object.entries(optIns).filter(
        ([ch, v]) => (before.opt_ins as Record<string, boolean>)[ch] !== v,
      );
      await appendAudit(
        q,
        changes.map(([ch, v]) => ({
          tenantId: tenant.id,
          entity: 'policy' as const,
          entityId: ch,
          actor,
          action: v ? 'opt_in' : 'opt_out',
          from: String((before.opt_ins as Record<string, boolean>)[ch] ?? false),
          to: String(v),
          reason: `${ch} ${v ? 'enabled' : 'disabled'} by ${actor}`,
        })),
      );
      return updated;
    },
    { tenantId: tenant.id },
  );
}
