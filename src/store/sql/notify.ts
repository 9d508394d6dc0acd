import type { Queryable } from '../driver.ts';

/**
 * Outbox change notices, published after commit (see store/publisher.ts). Payload:
 * {"t": tenant, "w": [adapters with rows due now], "e": [[id, status], ...]}, one per tenant and up
 * to 100 rows. Dispatchers wake lanes from "w"; the event bus fans "e" out to the owner panel.
 */
export const EVENTS_CHANNEL = 'outbox_events';
const ROWS_PER_NOTICE = 100;

export interface ChangedRow {
  tenant_id: string;
  id: string;
  status: string;
  adapter: string;
  /** The row is ready and due now: wake its lane. */
  due?: boolean;
}

export function publishChanges(q: Queryable, rows: readonly ChangedRow[]): void {
  const byTenant = new Map<string, ChangedRow[]>();
  for (const r of rows) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r]);
  for (const [t, list] of byTenant) {
    for (let i = 0; i < list.length; i += ROWS_PER_NOTICE) {
      const chunk = list.slice(i, i + ROWS_PER_NOTICE);
      const notice: ChangeNotice = {
        t,
        w: [...new Set(chunk.filter((r) => r.due).map((r) => r.adapter))],
        e: chunk.map((r) => [String(r.id), r.status]),
      };
      // Only a wake-up is awaited (by a lane); a status change for the panel can share a NOTIFY.
      q.publish(EVENTS_CHANNEL, JSON.stringify(notice), { lazy: notice.w.length === 0 });
    }
  }
}

export interface ChangeNotice {
  t: string;
  w: string[];
  e: [string, string][];
}

export function parseNotice(payload: string): ChangeNotice | null {
  try {
    const p = JSON.parse(payload) as Partial<ChangeNotice>;
    if (typeof p.t !== 'string' || !Array.isArray(p.e)) return null;
    return { t: p.t, w: Array.isArray(p.w) ? p.w : [], e: p.e };
  } catch {
    return null;
  }
}
