import type { Queryable } from '../driver.ts';
import { publishChanges } from './notify.ts';

export interface Completion {
  id: string;
  status: string;
  reason: string | null;
  mode: 'dry_run' | 'live' | 'lan';
  nextAttemptAt: Date | null;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempt: number;
  adapter: string;
  outcome: string;
  request: unknown;
  response: unknown;
  startedAt: Date;
  finishedAt: Date;
}

/**
 * Records the outcome of a batch of sends: status change, attempt row and audit event for each,
 * in one statement. Only rows this worker still leases for the same attempt are touched: a row whose
 * lease expired and was reclaimed (elsewhere, or by this same worker: the attempt number is the
 * fencing token) is left to its new lease. Returns the ids that were recorded.
 */
export async function completeBatch(
  q: Queryable,
  worker: string,
  items: readonly Completion[],
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const payload = JSON.stringify(
    items.map((c) => ({
      id: c.id,
      status: c.status,
      reason: c.reason,
      mode: c.mode,
      next_attempt_at: c.nextAttemptAt?.toISOString() ?? null,
      provider_message_id: c.providerMessageId,
      error_code: c.errorCode,
      error_message: c.errorMessage,
      attempt: c.attempt,
      adapter: c.adapter,
      outcome: c.outcome,
      request: c.request ?? null,
      response: c.response ?? null,
      started_at: c.startedAt.toISOString(),
      finished_at: c.finishedAt.toISOString(),
      duration_ms: Math.max(0, c.finishedAt.getTime() - c.startedAt.getTime()),
    })),
  );
  const res = await q.query<{ id: string; tenant_id: string; status: string; adapter: string }>(
    `WITH r AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status text, reason text, mode text,
         next_attempt_at timestamptz, provider_message_id text, error_code text, error_message text, attempt int,
         adapter text, outcome text, request jsonb, response jsonb, started_at timestamptz, finished_at timestamptz,
         duration_ms int)
     ), upd AS (
       UPDATE outbox o SET status = r.status, reason = r.reason, mode = r.mode, next_attempt_at = r.next_attempt_at,
         provider_message_id = COALESCE(r.provider_message_id, o.provider_message_id), last_error_code = r.error_code,
         lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
       FROM r WHERE o.id = r.id AND o.status = 'sending' AND o.lease_owner = $2 AND o.attempts = r.attempt
       RETURNING o.id, o.tenant_id, o.status, o.adapter, o.next_attempt_at
     ), att AS (
       INSERT INTO outbox_attempts (outbox_id, tenant_id, attempt, adapter, mode, outcome, error_code, error_message,
         provider_message_id, request, response, worker, started_at, finished_at, duration_ms)
       SELECT r.id, upd.tenant_id, r.attempt, r.adapter, r.mode, r.outcome, r.error_code, r.error_message,
         r.provider_message_id, r.request, r.response, $2, r.started_at, r.finished_at, r.duration_ms
       FROM r JOIN upd ON upd.id = r.id
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
       SELECT upd.tenant_id, 'outbox', r.id::text, $2, 'attempt', 'sending', r.status, r.reason,
         jsonb_strip_nulls(jsonb_build_object('attempt', r.attempt, 'outcome', r.outcome, 'mode', r.mode,
           'errorCode', r.error_code, 'providerMessageId', r.provider_message_id))
       FROM r JOIN upd ON upd.id = r.id
     )
     SELECT upd.id::text AS id, upd.tenant_id, upd.status, upd.adapter FROM upd`,
    [payload, worker],
    { name: 'complete_batch' },
  );
  publishChanges(q, res.rows);
  return new Set(res.rows.map((r) => r.id));
}
