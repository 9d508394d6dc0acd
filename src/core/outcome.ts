import { nextDelayMs, type BackoffPolicy } from './backoff.ts';
import type { Channel } from './channels.ts';
import type { GateDecision } from './gate.ts';

/**
 * The outcome policy of a dispatch attempt. Pure: from the row, the gate's decision and the
 * adapter's classified answer to the row's next status, reason and retry time. The lane does the
 * I/O (claiming, calling the adapter, recording) and asks this module what each answer means.
 */

/** What the policy needs to know of a claimed row. */
export interface OutcomeRow {
  channel: Channel;
  /** This attempt's number (1-based): the claim has already counted it. */
  attempts: number;
  max_attempts: number;
  expires_at: string | Date | null;
}

export type DeliveryMode = 'dry_run' | 'live' | 'lan';

/** An adapter's classified answer, or what the lane saw instead of one. */
export type AttemptAnswer =
  | { outcome: 'sent'; providerMessageId: string | null }
  | { outcome: 'delivered'; providerMessageId: string | null }
  | {
      outcome: 'retryable' | 'permanent' | 'rate_limited';
      errorCode: string;
      errorMessage: string;
      retryAfterMs?: number;
      finalStatus?: 'dead' | 'expired' | 'blocked';
      rateLimitScope?: 'recipient' | 'account';
    };

/** The row's next state, without the request/response and timing the lane adds. */
export interface Verdict {
  status: string;
  outcome: string;
  reason: string;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  nextAttemptAt: Date | null;
}

export interface RetryPolicy {
  backoff: BackoffPolicy;
  random?: () => number;
}

const verdict = (v: Pick<Verdict, 'status' | 'outcome' | 'reason'> & Partial<Verdict>): Verdict => ({
  providerMessageId: null,
  errorCode: null,
  errorMessage: null,
  nextAttemptAt: null,
  ...v,
});

/** A row whose tenant was deleted: nobody to send for, and nothing to wait for. */
export function verdictTenantGone(): Verdict {
  return verdict({
    status: 'dead',
    outcome: 'permanent',
    reason: 'tenant no longer exists',
    errorCode: 'no_tenant',
  });
}

/**
 * Before any adapter call: a row whose time to live has passed, or that the gate does not let
 * through, ends here. `null` means: call the adapter (live, or LAN).
 */
export function verdictBeforeSend(row: OutcomeRow, decision: GateDecision, now: Date): Verdict | null {
  if (row.expires_at && new Date(row.expires_at).getTime() <= now.getTime()) {
    return verdict({ status: 'expired', outcome: 'expired', reason: 'time to live passed before sending' });
  }
  switch (decision.kind) {
    case 'queue':
      return verdict({ status: 'queued', outcome: 'queued', reason: decision.reason });
    case 'block':
      return verdict({ status: 'blocked', outcome: 'blocked', reason: decision.reason });
    case 'dry_run':
      return verdict({ status: 'mock_sent', outcome: 'mock_sent', reason: decision.reason });
    case 'allow_live':
      return null;
  }
}

/** The row's next state after the adapter answered (or timed out, classified as retryable). */
export function verdictAfterSend(
  row: OutcomeRow,
  answer: AttemptAnswer,
  mode: DeliveryMode,
  policy: RetryPolicy,
  now: Date,
): Verdict {
  if (answer.outcome === 'sent' || answer.outcome === 'delivered') {
    return verdict({
      status: answer.outcome,
      outcome: answer.outcome,
      reason: mode === 'lan' ? 'handed to the LAN hub' : 'accepted by the provider',
      providerMessageId: answer.providerMessageId,
    });
  }
  const failure = { outcome: answer.outcome, errorCode: answer.errorCode, errorMessage: answer.errorMessage };
  const cause = `${answer.errorCode}: ${answer.errorMessage}`;
  if (answer.outcome === 'permanent') {
    return verdict({ ...failure, status: answer.finalStatus ?? 'dead', reason: cause });
  }
  // OTP is online only: a code that arrives minutes later is useless and confusing, so a
  // retryable OTP failure is a clear refusal now, never a retry later.
  if (row.channel === 'otp_sms') {
    return verdict({
      ...failure,
      status: 'blocked',
      reason: `OTP is online only, not retried later: ${cause}`,
    });
  }
  // A rate limit with the provider's wait is pacing, not a failure of the message: it does not use up
  // the attempts (a busy evening must not kill rows), only a separate, generous allowance does.
  const paced = answer.outcome === 'rate_limited' && answer.retryAfterMs !== undefined;
  const budget = paced ? row.max_attempts + PACED_RETRY_ALLOWANCE : row.max_attempts;
  if (row.attempts >= budget) {
    return verdict({
      ...failure,
      status: 'dead',
      reason: `attempts exhausted (${row.attempts}); last error ${cause}`,
    });
  }
  // Rate limited: retry at the provider's pace (its wait plus a little jitter, no exponential
  // growth). Retryable: back off, honouring a provider's wait as a floor.
  const delay = paced
    ? pacedDelayMs(answer.retryAfterMs!, policy.random)
    : nextDelayMs(row.attempts, policy.backoff, policy.random, answer.retryAfterMs);
  return verdict({
    ...failure,
    status: 'failed',
    reason: `${cause}; retry in ${Math.round(delay / 100) / 10} s`,
    nextAttemptAt: new Date(now.getTime() + delay),
  });
}

/** Rate-limited retries a row may take on top of its max_attempts before it is given up. */
export const PACED_RETRY_ALLOWANCE = 50;

/** The provider's wait plus up to 10 % (at most 1 s) of jitter, so rows told the same wait spread out. */
export function pacedDelayMs(waitMs: number, random: () => number = Math.random): number {
  return Math.round(waitMs + random() * Math.min(waitMs * 0.1, 1_000));
}

/** A row given back at shutdown: due again at once, or dead when it has no attempt left. */
export function verdictReleased(row: OutcomeRow, reason: string, now: Date): Verdict {
  const last = row.attempts >= row.max_attempts;
  return verdict({
    status: last ? 'dead' : 'failed',
    outcome: 'released',
    reason: last ? `${reason}; attempts exhausted (${row.attempts})` : reason,
    errorCode: 'dispatcher_stopped',
    errorMessage: reason,
    nextAttemptAt: last ? null : now,
  });
}
