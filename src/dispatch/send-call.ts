import type { Redactor } from '../core/redact.ts';
import type { ProviderAdapter, SendContext, SendResult } from '../providers/types.ts';
import type { OutboxRow } from '../store/rows.ts';

/** What one adapter call came to: the adapter's classified answer, or the lane's own reason. */
export type CallResult = SendResult | { outcome: 'stopped' };

/**
 * Calls the adapter, bounded by `timeoutMs` even if the adapter ignores its signal, and cut short
 * when the lane stops. A throw (a bug, not a provider answer: those come back classified) and a
 * timeout are retryable failures with the request the adapter would have sent.
 */
export async function callAdapter(
  adapter: ProviderAdapter,
  row: OutboxRow,
  tenant: SendContext['tenant'],
  timeoutMs: number,
  stop: AbortSignal,
  redactor: Redactor,
): Promise<CallResult> {
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]);
  const timedOut = Symbol('timeout');
  let result: SendResult | typeof timedOut;
  try {
    result = await Promise.race([
      adapter.send(row, { signal, tenant }),
      new Promise<typeof timedOut>((resolve) => {
        if (signal.aborted) resolve(timedOut);
        signal.addEventListener('abort', () => resolve(timedOut), { once: true });
      }),
    ]);
  } catch (err) {
    return {
      outcome: 'retryable',
      errorCode: 'adapter_error',
      errorMessage: redactor.scrub(err instanceof Error ? err.message : String(err)),
      request: adapter.render(row),
    };
  }
  if (result !== timedOut) return result;
  if (stop.aborted) return { outcome: 'stopped' };
  return {
    outcome: 'retryable',
    errorCode: 'timeout',
    errorMessage: `provider call exceeded ${timeoutMs} ms`,
    request: adapter.render(row),
  };
}
