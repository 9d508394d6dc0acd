import type { Db } from '../store/driver.ts';
import type { Completion } from '../store/sql/complete.ts';
import { completeBatch } from '../store/sql/complete.ts';

/**
 * Group commit of failed OTP attempts. When the provider hangs, every request in flight reaches
 * its deadline at about the same moment; recording those rows one transaction each would be a
 * burst of commits on the database the LAN shares. Completions that arrive while a write is in
 * progress go together in the next one (one statement per tenant: completeBatch is batch-shaped).
 */
export class FinishBatcher {
  private pending: {
    tenantId: string;
    c: Completion;
    done: (ok: boolean) => void;
    fail: (e: unknown) => void;
  }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly worker: string,
  ) {}

  finish(tenantId: string, c: Completion): Promise<boolean> {
    return new Promise((done, fail) => {
      this.pending.push({ tenantId, c, done, fail });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      const byTenant = new Map<string, typeof batch>();
      for (const p of batch) byTenant.set(p.tenantId, [...(byTenant.get(p.tenantId) ?? []), p]);
      for (const [tenantId, items] of byTenant) {
        try {
          const recorded = await this.db.tx(
            (q) =>
              completeBatch(
                q,
                this.worker,
                items.map((i) => i.c),
              ),
            { tenantId },
          );
          for (const i of items) i.done(recorded.has(i.c.id));
        } catch (err) {
          for (const i of items) i.fail(err);
        }
      }
    }
    this.flushing = null;
  }
}
