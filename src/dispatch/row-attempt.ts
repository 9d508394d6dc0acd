import type { Logger } from 'pino';
import type { Metrics } from '../kernel/metrics.ts';
import type { Config } from '../config/config.ts';
import {
  verdictAfterSend,
  verdictBeforeSend,
  verdictReleased,
  verdictTenantGone,
  type AttemptAnswer,
  type Verdict,
} from '../core/outcome.ts';
import type { Redactor } from '../core/redact.ts';
import { gateFor, modeOf } from '../outbox/gate-inputs.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { Finished } from '../store/completion-recorder.ts';
import type { TenantRow } from '../store/rows.ts';
import type { ClaimedRow } from '../store/sql/claim.ts';
import type { Completion } from '../store/sql/complete.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { RateLimitPause } from './rate-limit-pause.ts';
import { callAdapter } from './send-call.ts';

/** What one lane lends to each of its rows' attempts. */
export interface AttemptContext {
  adapter: ProviderAdapter;
  config: Config;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  timeoutMs: number;
  breaker: CircuitBreaker;
  rateLimits: RateLimitPause;
  /** Aborted when the lane stops past its grace. */
  stop: AbortSignal;
  random?: () => number;
}

/** One row's attempt: the gate, the adapter call, and what the outcome policy makes of it. */
export async function attemptRow(
  c: AttemptContext,
  row: ClaimedRow,
  tenant: TenantRow | undefined,
): Promise<Completion> {
  const { adapter, config, redactor, breaker } = c;
  const startedAt = new Date();
  const completion = (
    v: Verdict,
    mode: Completion['mode'],
    request: unknown,
    response: unknown = null,
  ): Completion => ({
    ...v,
    id: row.id,
    attempt: row.attempts,
    adapter: adapter.id,
    mode,
    request,
    response,
    startedAt,
    finishedAt: new Date(),
  });

  if (!tenant) return completion(verdictTenantGone(), 'dry_run', null);
  const decision = gateFor(config, adapter, tenant.opt_ins, row.channel);
  const mode = modeOf(decision, row.channel) ?? 'dry_run';
  const early = verdictBeforeSend(row, decision, startedAt);
  if (early?.status === 'expired') return completion(early, row.mode ?? 'dry_run', null);
  if (early) return completion(early, mode, early.status === 'mock_sent' ? adapter.render(row) : null);
  if (c.stop.aborted) {
    const reason = 'released at shutdown before the send started';
    return completion(verdictReleased(row, reason, new Date()), mode, adapter.render(row));
  }

  breaker.onStart();
  const result = await callAdapter(adapter, row, tenant, c.timeoutMs, c.stop, redactor);
  if (result.outcome === 'stopped') {
    breaker.onSuccess();
    const reason =
      'released at shutdown while the provider call was in flight; it may have been delivered (at-least-once)';
    return completion(verdictReleased(row, reason, new Date()), mode, adapter.render(row));
  }
  const request = redactor.scrubValue(result.request);
  const response = redactor.scrubValue(result.response ?? null);
  let answer: AttemptAnswer = result;
  if (result.outcome === 'sent' || result.outcome === 'delivered') {
    breaker.onSuccess();
  } else {
    answer = { ...result, errorMessage: redactor.scrub(result.errorMessage) };
    if (result.outcome === 'retryable') breaker.onFailure();
    else breaker.onSuccess();
    if (result.outcome === 'rate_limited') {
      // Awaited: the recipient's hold is stored before this row's slot frees.
      await c.rateLimits.onRateLimited(
        row.target,
        result.retryAfterMs ?? config.env.COMMS_RETRY_BASE_MS,
        result.rateLimitScope,
      );
    }
    if (result.outcome !== 'permanent') {
      c.metrics.circuitOpen.set({ adapter: adapter.id }, breaker.isOpen ? 1 : 0);
    }
  }
  const policy = {
    backoff: { baseMs: config.env.COMMS_RETRY_BASE_MS, capMs: config.env.COMMS_RETRY_CAP_MS },
    random: c.random,
  };
  return completion(verdictAfterSend(row, answer, mode, policy, new Date()), mode, request, response);
}

/**
 * Runs the attempts of a claimed batch side by side: each row is `settled` as soon as its own send
 * is over (a slow send does not hold its batch mates), then handed on as `finished`.
 */
export async function attemptBatch(
  c: AttemptContext,
  rows: ClaimedRow[],
  settled: (row: ClaimedRow) => void,
  finished: (f: Finished) => void,
): Promise<void> {
  await Promise.all(
    rows.map(async (row) => {
      let completion: Completion;
      try {
        completion = await attemptRow(c, row, row.tenant);
      } catch (err) {
        // A bug, not a provider answer (those come back classified): the lease expires and the
        // row is tried again elsewhere.
        c.logger.error({ err: c.redactor.scrub(String(err)), lane: c.adapter.id }, 'processing a row failed');
        return;
      } finally {
        settled(row);
      }
      finished({ row, completion });
    }),
  );
}

/** Dispatch latency and attempt counts of the rows whose outcome was just recorded. */
export function observeRecorded(metrics: Metrics, adapter: string, recorded: Finished[]): void {
  for (const { row, completion: c } of recorded) {
    const since = Math.max(new Date(row.send_at).getTime(), new Date(row.created_at).getTime());
    metrics.dispatchLatency.observe({ adapter, outcome: c.outcome }, (c.finishedAt.getTime() - since) / 1000);
    metrics.attempts.inc({ adapter, outcome: c.outcome });
  }
}
