import type { Queryable } from '../driver.ts';
import { publishChanges } from './notify.ts';
import { assertTransition, type Status } from '../../core/status.ts';
import { OUTBOX_COLUMNS, type OutboxRow } from '../rows.ts';

export interface TransitionInput {
  tenantId: string;
  id: string;
  from: Status;
  to: Status;
  actor: string;
  action: string;
  reason: string | null;
  detail?: unknown;
  /** Extra column updates, e.g. next_attempt_at for a row made ready. */
  set?: {
    nextAttemptAt?: Date | null;
    mode?: string | null;
    maxAttempts?: number;
    providerMessageId?: string;
    lastErrorCode?: string | null;
  };
}

/**
 * Moves one row from an expected status to another, with its audit event, in one statement.
 * Returns null when the row is not in `from` any more (someone else moved it first).
 */
export async function transitionRow(q: Queryable, t: TransitionInput): Promise<OutboxRow | null> {
  assertTransition(t.from, t.to);
  const s = t.set ?? {};
  const res = await q.query<OutboxRow>(
    `WITH upd AS (
       UPDATE outbox SET status = $4, reason = $5, updated_at = now(),
         next_attempt_at = CASE WHEN $7::boolean THEN $8::timestamptz ELSE next_attempt_at END,
         mode = CASE WHEN $9::boolean THEN $10 ELSE mode END,
         max_attempts = COALESCE($11::int, max_attempts),
         provider_message_id = COALESCE($12, provider_message_id),
         last_error_code = CASE WHEN $13::boolean THEN $14 ELSE last_error_code END
       WHERE tenant_id = $1 AND id = $2 AND status = $3
       RETURNING ${OUTBOX_COLUMNS}
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
       SELECT tenant_id, 'outbox', id::text, $6, $15, $3, status, reason, $16::jsonb FROM upd
     )
     SELECT upd.* FROM upd`,
    [
      t.tenantId,
      t.id,
      t.from,
      t.to,
      t.reason,
      t.actor,
      'nextAttemptAt' in s,
      s.nextAttemptAt ?? null,
      'mode' in s,
      s.mode ?? null,
      s.maxAttempts ?? null,
      s.providerMessageId ?? null,
      'lastErrorCode' in s,
      s.lastErrorCode ?? null,
      t.action,
      t.detail === undefined ? null : JSON.stringify(t.detail),
    ],
  );
  const row = res.rows[0];
  if (!row) return null;
  publishChanges(q, [{ ...row, due: row.status === 'ready' }]);
  return row;
}
