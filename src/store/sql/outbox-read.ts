import type { Channel } from '../../core/channels.ts';
import type { Queryable } from '../driver.ts';
import { OUTBOX_COLUMNS, type AttemptRow, type AuditRow, type OutboxRow } from '../rows.ts';
import { exactUtcText } from './cursor.ts';

export async function outboxById(q: Queryable, tenantId: string, id: string): Promise<OutboxRow | null> {
  const r = await q.query<OutboxRow>(
    `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return r.rows[0] ?? null;
}

export async function outboxByIdempotencyKey(
  q: Queryable,
  tenantId: string,
  key: string | null,
): Promise<OutboxRow | null> {
  const r = await q.query<OutboxRow>(
    `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND idempotency_key = $2`,
    [tenantId, key],
  );
  return r.rows[0] ?? null;
}

export async function outboxAttempts(q: Queryable, tenantId: string, id: string): Promise<AttemptRow[]> {
  const r = await q.query<AttemptRow>(
    `SELECT id, outbox_id, attempt, adapter, mode, outcome, error_code, error_message, provider_message_id, request,
            response, worker, started_at, finished_at, duration_ms
     FROM outbox_attempts WHERE tenant_id = $1 AND outbox_id = $2 ORDER BY id`,
    [tenantId, id],
  );
  return r.rows;
}

export async function outboxAuditEvents(q: Queryable, tenantId: string, id: string): Promise<AuditRow[]> {
  const r = await q.query<AuditRow>(
    `SELECT id, tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail, created_at
     FROM audit_events WHERE tenant_id = $1 AND entity = 'outbox' AND entity_id = $2 ORDER BY id`,
    [tenantId, id],
  );
  return r.rows;
}

export interface OutboxPageFilter {
  status: string | null;
  channel: string | null;
  source: string | null;
  afterAt: string | null;
  afterId: string | null;
  limit: number;
}

/** Up to `limit` rows before a cursor, newest first, each with its exact cursor time. */
export async function outboxPage(
  q: Queryable,
  tenantId: string,
  f: OutboxPageFilter,
): Promise<(OutboxRow & { cursor_at: string })[]> {
  const r = await q.query<OutboxRow & { cursor_at: string }>(
    `SELECT ${OUTBOX_COLUMNS}, ${exactUtcText('created_at')} AS cursor_at FROM outbox
     WHERE tenant_id = $1
       AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR channel = $3) AND ($4::text IS NULL OR source = $4)
       AND ($5::timestamptz IS NULL OR (created_at, id) < ($5::timestamptz, $6::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $7`,
    [tenantId, f.status, f.channel, f.source, f.afterAt, f.afterId, f.limit],
  );
  return r.rows;
}

/** A tenant's queued rows (of one channel, or all), oldest first, at most 10,000. */
export async function queuedRows(
  q: Queryable,
  tenantId: string,
  channel: Channel | null,
): Promise<{ id: string; channel: Channel; adapter: OutboxRow['adapter'] }[]> {
  const r = await q.query<{ id: string; channel: Channel; adapter: OutboxRow['adapter'] }>(
    `SELECT id, channel, adapter FROM outbox WHERE tenant_id = $1 AND status = 'queued' AND ($2::text IS NULL OR channel = $2)
     ORDER BY created_at LIMIT 10000`,
    [tenantId, channel],
  );
  return r.rows;
}

export interface OutboxSummaryRow {
  id: string;
  channel: string;
  target: string;
  status: string;
  reason: string | null;
  title: string | null;
  created_at: Date;
}

/** A tenant's 50 newest rows (optionally of one status), for the operator's table. */
export async function recentOutbox(
  q: Queryable,
  tenantId: string,
  status: string | null,
): Promise<OutboxSummaryRow[]> {
  const r = await q.query<OutboxSummaryRow>(
    `SELECT id, channel, target, status, reason, title, created_at FROM outbox WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC LIMIT 50`,
    [tenantId, status],
  );
  return r.rows;
}
