import type { Queryable } from '../driver.ts';

/** What a ticket prints from an outbox row, with the row's channel. */
export interface ReprintSource {
  outbox_id: string;
  title: string | null;
  body: string | null;
  source: string;
  created_at: Date;
  channel: string;
}

export async function reprintSource(
  q: Queryable,
  tenantId: string,
  outboxId: string,
): Promise<ReprintSource | null> {
  const r = await q.query<ReprintSource>(
    `SELECT id::text AS outbox_id, title, body, source, created_at, channel FROM outbox WHERE tenant_id = $1 AND id = $2`,
    [tenantId, outboxId],
  );
  return r.rows[0] ?? null;
}

/**
 * The printer that printed a row (the backup when it took over), preferring entries that did
 * print; null when the row went to no printer.
 */
export async function printedOn(q: Queryable, tenantId: string, outboxId: string): Promise<string | null> {
  const r = await q.query<{ printer: string }>(
    `SELECT coalesce(p.printed_on, i.device_id) AS printer FROM lan_inbox i
     JOIN lan_printers lp ON lp.tenant_id = i.tenant_id AND lp.device_id = i.device_id
     LEFT JOIN lan_prints p ON p.tenant_id = i.tenant_id AND p.device_id = i.device_id AND p.seq = i.seq
     WHERE i.tenant_id = $1 AND i.outbox_id = $2 ORDER BY (p.status IN ('printed', 'backup')) DESC NULLS LAST, i.device_id LIMIT 1`,
    [tenantId, outboxId],
  );
  return r.rows[0]?.printer ?? null;
}
