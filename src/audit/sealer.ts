import type { Logger } from 'pino';
import type { Db } from '../store/driver.ts';
import { tenantIds } from '../store/sql/audit-chain.ts';
import { sealedTop, sealTenant } from './chain.ts';

// Half a second keeps the unsealed tail short; a round that finds nothing new costs one index probe.
const SEAL_EVERY_MS = 500;
// The look-back for late commits reads the last LOOKBACK_IDS events: every few seconds is enough
// (a late commit is sealed a little later, never skipped).
const STRAGGLERS_EVERY_MS = 5_000;
const ROUND_LIMIT = 2_000;

/** Background loop that extends every tenant's audit hash chain. */
export class AuditSealer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastStragglerScan = 0;
  /** Per tenant, the newest sealed id when this process last looked back. */
  private readonly lookedBackAt = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running)
        this.running = this.sealAll()
          .then(() => undefined)
          .finally(() => (this.running = null));
    }, SEAL_EVERY_MS);
    this.timer.unref();
  }

  async sealAll(): Promise<number> {
    let n = 0;
    try {
      const stragglers = Date.now() - this.lastStragglerScan >= STRAGGLERS_EVERY_MS;
      for (const id of await tenantIds(this.db)) {
        const top = stragglers ? await sealedTop(this.db, id) : 0;
        const lookBackFrom = this.lookedBackAt.get(id);
        let k: number;
        do {
          k = await sealTenant(this.db, id, { limit: ROUND_LIMIT, stragglers, lookBackFrom });
          n += k;
        } while (k === ROUND_LIMIT);
        if (stragglers) this.lookedBackAt.set(id, top);
      }
      if (stragglers) this.lastStragglerScan = Date.now();
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'audit sealing failed; will retry');
    }
    return n;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
