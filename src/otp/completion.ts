import type { OutboxRow } from '../store/rows.ts';
import type { Completion } from '../store/sql/complete.ts';

/** How one OTP attempt ended; everything else of its completion follows from the row. */
export interface OtpAttemptEnd {
  status: 'sent' | 'mock_sent' | 'blocked' | 'dead' | 'expired';
  reason: string;
  mode: 'live' | 'dry_run';
  outcome: string;
  request: unknown;
  startedAt: Date;
  /** Defaults to now. */
  finishedAt?: Date;
  providerMessageId?: string | null;
  response?: unknown;
  errorCode?: string | null;
  errorMessage?: string | null;
}

/** The completion of a claimed OTP row. OTP is never retried, so there is no next attempt. */
export function otpCompletion(
  row: Pick<OutboxRow, 'id' | 'attempts' | 'adapter'>,
  e: OtpAttemptEnd,
): Completion {
  return {
    id: row.id,
    status: e.status,
    reason: e.reason,
    mode: e.mode,
    nextAttemptAt: null,
    providerMessageId: e.providerMessageId ?? null,
    errorCode: e.errorCode ?? null,
    errorMessage: e.errorMessage ?? null,
    attempt: row.attempts,
    adapter: row.adapter,
    outcome: e.outcome,
    request: e.request,
    response: e.response ?? null,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt ?? new Date(),
  };
}
