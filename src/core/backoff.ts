/**
 * Retry timing, computed in one place. Exponential with full jitter, capped; a provider's
 * requested wait (Retry-After, retry_after) is a floor, never shortened by jitter.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

// One minute base and one hour cap keep a provider outage of a few hours inside the attempt
// budget without hammering the provider.
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 3_600_000 };

export function nextDelayMs(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
  requestedWaitMs?: number,
): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half jitter: never zero, still spread out.
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(Math.round(jittered), requestedWaitMs ?? 0);
}
