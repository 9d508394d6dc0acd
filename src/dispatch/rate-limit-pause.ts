import type { Logger } from 'pino';
import type { Redactor } from '../core/redact.ts';
import type { RateLimitScope } from '../providers/types.ts';
import type { Db } from '../store/driver.ts';
import { holdRecipient } from '../store/sql/pace.ts';
import type { Pace } from './pace.ts';
import { RateLimitTracker } from './rate-limits.ts';

export interface RateLimitPauseOptions {
  db: Db;
  adapter: { readonly id: string };
  logger: Logger;
  redactor: Redactor;
  /** The lane's shared pace, if any: a pause is then shared with every dispatcher. */
  pace?: Pace | null;
}

/**
 * What a lane does with a provider's rate-limit answers. A limit the provider says is about one
 * recipient (WhatsApp 131056) holds that recipient in the database: no dispatcher process claims
 * rows to them until the wait is over, while other recipients' rows go on. One it says is about the
 * account (WhatsApp 130429) pauses the lane at once (and, with a shared pace, every dispatcher);
 * otherwise limits on two recipients within their waits mean the account.
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

  /** Resolves once a recipient hold is stored (or could not be: the row's own retry still waits). */
  async onRateLimited(target: string, waitMs: number, scope: RateLimitScope | undefined): Promise<void> {
    if (scope === 'recipient') {
      try {
        await holdRecipient(this.o.db, this.o.adapter.id, target, waitMs);
      } catch (err) {
        this.o.logger.warn({ err: this.o.redactor.scrub(String(err)) }, 'could not share the recipient hold');
      }
      return;
    }
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
