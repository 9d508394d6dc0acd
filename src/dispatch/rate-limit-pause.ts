import type { Logger } from 'pino';
import type { Redactor } from '../core/redact.ts';
import type { RateLimitScope } from '../providers/types.ts';
import type { Pace } from './pace.ts';
import { RateLimitTracker } from './rate-limits.ts';

export interface RateLimitPauseOptions {
  adapter: { readonly id: string };
  logger: Logger;
  redactor: Redactor;
  /** The lane's shared pace, if any: a pause is then shared with every dispatcher. */
  pace?: Pace | null;
}

/**
 * What a lane does with a provider's rate-limit answers. An account-wide limit pauses the lane
 * (and, with a shared pace, every dispatcher). A limit the provider says is about one recipient
 * (WhatsApp 131056) only delays that row; one it says is about the account (WhatsApp 130429)
 * pauses at once; otherwise limits on two recipients within their waits mean the account.
 */
export class RateLimitPause {
  /** Provider-requested pause of the lane, epoch ms. */
  private pausedUntil = 0;
  private readonly tracker = new RateLimitTracker();

  constructor(private readonly o: RateLimitPauseOptions) {}

  /** Milliseconds the lane still has to wait (0 or less: not paused). */
  remainingMs(now = Date.now()): number {
    return this.pausedUntil - now;
  }

  onRateLimited(target: string, waitMs: number, scope: RateLimitScope | undefined): void {
    if (scope === 'recipient') return;
    const resumeAt =
      scope === 'account' ? Date.now() + waitMs : this.tracker.note(target, waitMs, Date.now());
    if (resumeAt === null) return;
    this.pausedUntil = Math.max(this.pausedUntil, resumeAt);
    this.o.logger.warn({ lane: this.o.adapter.id, waitMs }, 'provider rate limit: lane paused');
    if (this.o.pace) {
      this.o.pace
        .holdOff(waitMs)
        .catch((err: unknown) =>
          this.o.logger.warn(
            { err: this.o.redactor.scrub(String(err)) },
            'could not share the rate-limit pause',
          ),
        );
    }
  }
}
