import type { Queryable } from '../driver.ts';
import { OUTBOX_COLUMNS, type OutboxRow } from '../rows.ts';
import { publishChanges } from './notify.ts';

export interface NewOutboxRow {
  id: string;
  tenantId: string;
  channel: string;
  adapter: string;
  target: string;
  title: string | null;
  subject: string | null;
  body: string | null;
  template: string | null;
  data: unknown;
  locale: string | null;
  source: string;
  status: string;
  reason: string | null;
  mode: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  sendAt: Date;
  expiresAt: Date | null;
  maxAttempts: number;
  actor: string;
}

/**
 * Inserts one row with its creation audit event and the dispatcher wake-up in one statement (one
 * round trip, atomic). Returns null when the idempotency key already exists for the tenant.
 */
export async function insertOutboxRow(q: Queryable, r: NewOutboxRow): Promise<OutboxRow | null> {
  const res = await q.query<OutboxRow>(
    `WITH ins AS (
       INSERT INTO outbox (id, tenant_id, channel, adapter, target, title, subject, body, template, data, locale, source,
         status, reason, mode, idempotency_key, request_hash, send_at, expires_at, next_attempt_at, max_attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18, $19,
         CASE WHEN $13 = 'ready' THEN $18::timestamptz END, $20)
       ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
       RETURNING ${OUTBOX_COLUMNS}
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason)
       SELECT tenant_id, 'outbox', id::text, $21, 'created', NULL, status, reason FROM ins
     )
     -- send_at comes from the API process's clock, read after this transaction began, so it is a
     -- little after now(): compare with the clock itself, allowing a second of skew between hosts
     -- (an early wake-up finds nothing and costs one probe; a missed one costs a poll).
     SELECT ins.*, (status = 'ready' AND send_at <= clock_timestamp() + interval '1 second') AS _due FROM ins`,
    [
      r.id,
      r.tenantId,
      r.channel,
      r.adapter,
      r.target,
      r.title,
      r.subject,
      r.body,
      r.template,
      r.data === undefined || r.data === null ? null : JSON.stringify(r.data),
      r.locale,
      r.source,
      r.status,
      r.reason,
      r.mode,
      r.idempotencyKey,
      r.requestHash,
      r.sendAt,
      r.expiresAt,
      r.maxAttempts,
      r.actor,
    ],
  );
  const row = res.rows[0];
  if (!row) return null;
  publishChanges(q, [{ ...row, due: (row as OutboxRow & { _due?: boolean })._due === true }]);
  return row;
}
