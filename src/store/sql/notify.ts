/**
 * Change notifications. NOTIFY serialises committing transactions on a global queue lock, so each
 * statement sends one notification per tenant per 100 rows instead of one per row. Payload:
 * {"t": tenant, "w": [adapters with rows due now], "e": [[id, status], ...]} (kept under NOTIFY's
 * 8000-byte limit by the chunking). Dispatchers wake lanes from "w"; the event bus fans "e" out.
 */
export const EVENTS_CHANNEL = 'outbox_events';

export function notifyAggregated(cte: string, wakeWhen: string): string {
  return `SELECT pg_notify('${EVENTS_CHANNEL}', json_build_object('t', tenant_id,
           'w', coalesce(json_agg(DISTINCT adapter) FILTER (WHERE ${wakeWhen}), '[]'::json),
           'e', json_agg(json_build_array(id, status)))::text)
         FROM (SELECT *, (row_number() OVER (PARTITION BY tenant_id)) / 100 AS chunk FROM ${cte}) x
         GROUP BY tenant_id, chunk`;
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
