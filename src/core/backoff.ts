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

/**
 * Successive waits of one retrying loop (a reconnect, a listener, a record retried while the
 * database is away): exponential with jitter, so many clients that lost the same server do not
 * come back in step. `reset()` after a success.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    this.attempt++;
    return nextDelayMs(this.attempt, this.policy, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}
