import type { UsageCount } from '../../core/wa-pricing.ts';
import type { Queryable } from '../driver.ts';

/**
 * A tenant's WhatsApp messages of one calendar month (UTC) by pricing category and billable/free,
 * from the statuses Meta reported with a pricing object. Each message counts once, with the pricing
 * of its latest status (Meta can re-state it on delivered/read).
 */
export async function monthlyUsage(q: Queryable, tenantId: string, month: string): Promise<UsageCount[]> {
  const r = await q.query<{ category: string; billable: boolean; messages: number }>(
    `WITH latest AS (
       SELECT DISTINCT ON (wamid) wamid, pricing FROM whatsapp_status_events
       WHERE tenant_id = $1 AND pricing IS NOT NULL
         AND received_at >= ($2 || '-01')::date AND received_at < (($2 || '-01')::date + interval '1 month')
       ORDER BY wamid, received_at DESC
     )
     SELECT coalesce(pricing->>'category', 'unknown') AS category, coalesce((pricing->>'billable')::boolean, false) AS billable, count(*)::int AS messages
     FROM latest GROUP BY 1, 2 ORDER BY 1, 2`,
    [tenantId, month],
  );
  return r.rows;
}
