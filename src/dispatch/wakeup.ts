/**
 * The lane's doorbell: `ring()` ends the current `wait()` at once, or the next one if the lane is
 * not waiting (a ring is never lost between two waits).
 */
export class Wakeup {
  private rung = false;
  private resolve: (() => void) | null = null;

  ring(): void {
    this.rung = true;
    this.resolve?.();
  }

  /** Waits for a ring or `ms`; true when the time ran out. */
  async wait(ms: number): Promise<boolean> {
    if (this.rung) {
      this.rung = false;
      return false;
    }
    const timedOut = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(true), ms);
      this.resolve = () => {
        clearTimeout(t);
        resolve(false);
      };
    });
    this.resolve = null;
    this.rung = false;
    return timedOut;
  }
}
