/**
 * Tells a provider's rate limit on one recipient from a limit on the whole account. A rate-limit
 * answer about one recipient (WhatsApp pair limit, Telegram per-chat flood) only delays that row;
 * answers about two or more recipients within their waits mean the account is limited, and the
 * lane should pause.
 */
export class RateLimitTracker {
  private readonly limitedUntil = new Map<string, number>();

  /** Notes a rate-limit answer; returns when the whole lane should resume, or null. */
  note(target: string, waitMs: number, now: number): number | null {
    for (const [t, until] of this.limitedUntil) if (until <= now) this.limitedUntil.delete(t);
    this.limitedUntil.set(target, now + waitMs);
    return this.limitedUntil.size < 2 ? null : now + waitMs;
  }
}
