import type { Logger } from 'pino';
import type { Db } from '../store/driver.ts';
import { sealTenant } from './chain.ts';

// Half a second keeps the unsealed tail short without measurable load on the enqueue path.
const SEAL_EVERY_MS = 500;

/** Background loop that extends every tenant's audit hash chain. */
export class AuditSealer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sealAll().then(() => undefined).finally(() => (this.running = null));
    }, SEAL_EVERY_MS);
    this.timer.unref();
  }

  async sealAll(): Promise<number> {
    let n = 0;
    try {
      const tenants = await this.db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
      for (const t of tenants.rows) {
        let k: number;
        do {
          k = await sealTenant(this.db, t.id);
          n += k;
        } while (k > 0);
      }
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
