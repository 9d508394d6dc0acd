import type { Queryable } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import type { TicketContent } from './ticket.ts';

/** "DUPLICATE" in the tenant's language. */
export function duplicateMark(locale: string): string {
  const lang = locale.slice(0, 2).toLowerCase();
  return lang === 'az' ? 'TƏKRAR' : lang === 'ru' ? 'ДУБЛИКАТ' : 'DUPLICATE';
}

export const RESTART_MARK = 'REPRINT AFTER RESTART';
export const backupMark = (primaryName: string): string => `BACKUP FROM ${primaryName}`;

/**
 * The ticket's source as people call it: the name of the device it came from, else the source id
 * in words ("owner_panel" → "Owner panel").
 */
export async function sourceName(q: Queryable, tenantId: string, source: string): Promise<string> {
  const r = await q.query<{ name: string }>(
    'SELECT name FROM lan_devices WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL',
    [tenantId, source],
  );
  if (r.rows[0]) return r.rows[0].name;
  const words = source.replace(/[_.-]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : source;
}

export async function ticketContent(
  q: Queryable,
  tenant: TenantRow,
  row: {
    outbox_id: string;
    title: string | null;
    body: string | null;
    source: string;
    created_at: Date | string;
  },
  marks: string[],
): Promise<TicketContent> {
  return {
    outboxId: row.outbox_id,
    restaurant: tenant.name,
    source: await sourceName(q, tenant.id, row.source),
    createdAt: new Date(row.created_at),
    timezone: tenant.timezone,
    title: row.title ?? '',
    body: row.body ?? '',
    marks,
  };
}
