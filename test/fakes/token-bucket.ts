/** A token bucket on an injectable clock (ms): `capacity` burst, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {
    if (!(capacity >= 1) || !(perSecond > 0)) throw new Error('TokenBucket: capacity >= 1 and perSecond > 0');
    this.tokens = capacity;
    this.last = now();
  }

  /** Milliseconds until one token is available (0 = now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.perSecond) * 1000;
  }

  take(): void {
    this.refill();
    this.tokens -= 1;
  }

  private refill(): void {
    const t = this.now();
    // A clock moved backwards by a test must not mint tokens.
    const elapsed = Math.max(0, t - this.last);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.perSecond);
    this.last = t;
  }
}
