/**
 * How many OTP starts one process works on at once. A start past the cap is refused at once
 * (503 otp_unavailable, reason otp_busy) before it costs a database statement or a provider
 * connection: a sign-in flood, or a hanging provider that keeps every start open until its
 * deadline, then cannot take the event loop or the database from LAN work. Nothing is queued for
 * later. The cap is taken before the owner lookup, so owners and strangers are refused alike.
 */
export class StartAdmission {
  private inFlight = 0;
  private refused = 0;

  /** `onRefusals(n)`: n starts were refused since the last report (one log line per burst, not per request). */
  constructor(
    readonly max: number,
    private readonly onRefusals: (n: number) => void = () => undefined,
  ) {}

  /** A release function for an admitted start (call it once its work has settled), or null. */
  enter(): (() => void) | null {
    if (this.inFlight >= this.max) {
      this.refused++;
      return null;
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      if (this.refused > 0) {
        const n = this.refused;
        this.refused = 0;
        this.onRefusals(n);
      }
    };
  }

  /**
   * True (and counted as a refusal) when a start arriving now would be refused: lets the route
   * answer before its body is parsed or validated, the cheapest refusal there is in a flood.
   */
  refuseEarly(): boolean {
    if (this.inFlight < this.max) return false;
    this.refused++;
    return true;
  }

  get active(): number {
    return this.inFlight;
  }
}
