/**
 * What a real provider call has been like lately, so the answer for a phone that is not an owner
 * (no SMS is sent for it) takes about as long and, while the provider is failing, fails the same
 * way. Without this, response time or an outage would tell an outsider which phones are owners.
 */
export type ProviderFailure = { ok: false; code: string; message: string; retryAfterS?: number };
export type ProviderOutcome = { ok: true } | ProviderFailure;

interface Sample {
  at: number;
  ms: number;
  outcome: ProviderOutcome;
}

const KEEP = 32;
// Before any real call has been timed, a decoy waits about as long as a Twilio round trip.
const DEFAULT_MS = 250;
// A failure older than this no longer says anything about the provider's state.
const FAILURE_MEMORY_MS = 60_000;

export class ProviderMimic {
  private readonly samples: Sample[] = [];

  constructor(private readonly now: () => number) {}

  record(ms: number, outcome: ProviderOutcome): void {
    this.samples.push({ at: this.now(), ms, outcome });
    if (this.samples.length > KEEP) this.samples.shift();
  }

  /** The outcome and duration a decoy should show now: the latest real outcome if it was a recent failure. */
  next(): { ms: number; outcome: ProviderOutcome } {
    const last = this.samples[this.samples.length - 1];
    if (last && !last.outcome.ok && this.now() - last.at < FAILURE_MEMORY_MS) {
      return { ms: this.median((s) => !s.outcome.ok), outcome: last.outcome };
    }
    return { ms: this.median((s) => s.outcome.ok), outcome: { ok: true } };
  }

  private median(pick: (s: Sample) => boolean): number {
    const xs = this.samples
      .filter(pick)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    const base = xs.length ? xs[Math.floor(xs.length / 2)]! : DEFAULT_MS;
    // ±10 % so repeated probes do not see one constant duration.
    return Math.max(0, Math.round(base * (0.9 + Math.random() * 0.2)));
  }
}
