import type { Db, Queryable } from '../driver.ts';

export interface OutboxCounts {
  total: number;
  lan: number;
  otp_waiting: number;
  unaudited: number;
}

/** A tenant's outbox totals for the readiness document (rows without any audit event included). */
export async function outboxCounts(q: Queryable, tenantId: string): Promise<OutboxCounts | null> {
  const r = await q.query<OutboxCounts>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE channel = 'in_app')::int AS lan,
            count(*) FILTER (WHERE channel = 'otp_sms' AND status IN ('queued', 'failed'))::int AS otp_waiting,
            count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM audit_events a
                WHERE a.tenant_id = o.tenant_id AND a.entity = 'outbox' AND a.entity_id = o.id::text))::int AS unaudited
     FROM outbox o WHERE o.tenant_id = $1`,
    [tenantId],
  );
  return r.rows[0] ?? null;
}

/** How many of the two append-only triggers are enabled. */
export async function appendOnlyTriggers(db: Db): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname IN ('audit_events_append_only', 'outbox_attempts_append_only') AND tgenabled <> 'D'`,
  );
  return r.rows[0]?.n ?? 0;
}

/** Audit events by a webhook actor on anything but inbound, outbox and Telegram-link entities. */
export async function webhookBusinessChanges(q: Queryable, tenantId: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events
     WHERE tenant_id = $1 AND actor LIKE 'webhook:%' AND entity NOT IN ('inbound', 'outbox', 'telegram_link')`,
    [tenantId],
  );
  return r.rows[0]?.n ?? 0;
}
