import { isLanSafe } from '../core/channels.ts';
import { maskTarget } from '../core/redact.ts';
import type { AttemptRow, AuditRow, OutboxRow } from '../store/rows.ts';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** Telegram message ids are `<chat id>:<message id>`: lists mask the chat like the target. */
function maskMessageId(channel: string, id: string | null): string | null {
  if (channel !== 'telegram' || id === null) return id;
  const at = id.lastIndexOf(':');
  return at < 0
    ? maskTarget(id, 'telegram')
    : `${maskTarget(id.slice(0, at), 'telegram')}:${id.slice(at + 1)}`;
}

/** The API shape of an outbox row. Lists mask phone numbers, emails and Telegram chats; the item view shows them. */
export function presentItem(row: OutboxRow, opts: { mask: boolean }) {
  return {
    id: row.id,
    channel: row.channel,
    target: opts.mask ? maskTarget(row.target, row.channel) : row.target,
    title: row.title,
    subject: row.subject,
    body: row.body,
    template: row.template,
    source: row.source,
    status: row.status,
    reason: row.reason,
    adapter: row.adapter,
    mode: row.mode,
    offlineSafe: isLanSafe(row.channel),
    attemptCount: row.attempts,
    maxAttempts: row.max_attempts,
    sendAt: iso(row.send_at),
    nextAttemptAt: iso(row.next_attempt_at),
    expiresAt: iso(row.expires_at),
    providerMessageId: opts.mask
      ? maskMessageId(row.channel, row.provider_message_id)
      : row.provider_message_id,
    lastErrorCode: row.last_error_code,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function presentAttempt(a: AttemptRow) {
  return {
    attempt: a.attempt,
    adapter: a.adapter,
    mode: a.mode,
    outcome: a.outcome,
    errorCode: a.error_code,
    errorMessage: a.error_message,
    providerMessageId: a.provider_message_id,
    request: a.request ?? null,
    response: a.response ?? null,
    worker: a.worker,
    startedAt: iso(a.started_at),
    finishedAt: iso(a.finished_at),
    durationMs: a.duration_ms,
  };
}

export function presentAudit(e: AuditRow) {
  return {
    id: e.id,
    at: iso(e.created_at),
    actor: e.actor,
    action: e.action,
    from: e.from_status,
    to: e.to_status,
    reason: e.reason,
    detail: e.detail ?? null,
  };
}
