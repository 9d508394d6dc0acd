/**
 * A per-lane circuit breaker: after `threshold` consecutive transport-level failures the lane stops
 * calling the provider for `cooldownMs`, then lets one probe through. Rows wait instead of burning
 * attempts against a provider that is down.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;
  /** Wall-clock times of the last answer and the last transport failure (read by the hub's internet state). */
  lastSuccessAt = 0;
  lastFailureAt = 0;

  constructor(
    private readonly threshold = 5,
    private readonly cooldownMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many calls may start now (Infinity when closed, 1 for the half-open probe, 0 when open). */
  allowance(): number {
    if (this.failures < this.threshold) return Infinity;
    if (this.now() < this.openUntil) return 0;
    return this.probing ? 0 : 1;
  }

  get isOpen(): boolean {
    return this.failures >= this.threshold;
  }

  onStart(): void {
    if (this.failures >= this.threshold) this.probing = true;
  }

  onSuccess(): void {
    this.lastSuccessAt = Date.now();
    this.failures = 0;
    this.probing = false;
  }

  onFailure(): void {
    this.lastFailureAt = Date.now();
    this.failures++;
    this.probing = false;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.cooldownMs;
  }
}
