import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { OnlineLaneHealth } from '../core/internet.ts';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { adapterIsLive } from '../outbox/gate-inputs.ts';
import type { Metrics } from '../kernel/metrics.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Db } from '../store/driver.ts';
import { dueAdapters } from '../store/sql/claim.ts';
import { reclaimExpiredLeases } from '../store/sql/reclaim.ts';
import { EVENTS_CHANNEL, parseNotice } from '../store/sql/notify.ts';
import { Lane } from './lane.ts';
import { Pace, parsePace } from './pace.ts';

export interface DispatcherOptions {
  db: Db;
  config: Config;
  registry: ProviderRegistry;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  worker?: string;
}

/**
 * Runs one lane per adapter plus the lease reaper. NOTIFY on `outbox_ready` wakes the lane of the
 * named adapter at once; polling is only the fallback for scheduled rows and lost notifications.
 */
export class Dispatcher {
  readonly worker: string;
  readonly lanes = new Map<string, Lane>();
  private unlisten: (() => Promise<void>) | null = null;
  private reaper: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private polling = false;
  private running = false;

  constructor(private readonly o: DispatcherOptions) {
    this.worker = o.worker ?? `dispatcher:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const { config } = o;
    const rates = parsePace(config.env.COMMS_PACE);
    if (config.env.COMMS_PROVIDER_TIMEOUT_MS >= config.env.COMMS_LEASE_MS) {
      // A send may then still be running when its lease expires and another dispatcher sends it too.
      o.logger.warn(
        { leaseMs: config.env.COMMS_LEASE_MS, timeoutMs: config.env.COMMS_PROVIDER_TIMEOUT_MS },
        'COMMS_LEASE_MS should be well above COMMS_PROVIDER_TIMEOUT_MS',
      );
    }
    for (const adapter of o.registry.all()) {
      const lan = adapter.info.lanSafe;
      const live = adapterIsLive(config, adapter);
      this.lanes.set(
        adapter.id,
        new Lane({
          db: o.db,
          config,
          adapter,
          redactor: o.redactor,
          metrics: o.metrics,
          logger: o.logger,
          worker: this.worker,
          sharedPoll: true,
          // Dry-run renders are local work; live calls are bounded per provider.
          capacity: lan
            ? config.env.COMMS_LAN_CONCURRENCY * 16
            : live
              ? adapter.id === 'smtp'
                ? // No more sends than pooled connections: a send queued inside nodemailer's pool
                  // would run out the lane's timeout while still waiting, be retried, and then
                  // go out anyway (nodemailer cannot recall it): a duplicate for nothing.
                  Math.min(config.env.COMMS_ONLINE_CONCURRENCY, config.env.SMTP_POOL_MAX_CONNECTIONS)
                : config.env.COMMS_ONLINE_CONCURRENCY
              : config.env.COMMS_BATCH_SIZE * 2,
          timeoutMs: lan
            ? 5_000
            : adapter.id === 'twilio_verify'
              ? config.env.OTP_TIMEOUT_MS
              : config.env.COMMS_PROVIDER_TIMEOUT_MS,
          // Pacing is about the provider's limits: only live online sends are paced.
          pace:
            live && !lan && rates.has(adapter.id) ? new Pace(o.db, adapter.id, rates.get(adapter.id)!) : null,
        }),
      );
    }
  }

  /** What the online (non-LAN) lanes saw of their providers, for the hub's internet state. */
  onlineHealth(): OnlineLaneHealth[] {
    return [...this.lanes.values()]
      .filter((l) => !l.lanSafe)
      .map((l) => ({
        breakerOpen: l.breaker.isOpen,
        lastSuccessAt: l.breaker.lastSuccessAt,
        lastFailureAt: l.breaker.lastFailureAt,
      }));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unlisten = await this.o.db.listen(EVENTS_CHANNEL, (payload) => {
      const n = parseNotice(payload);
      if (!n) return;
      for (const adapter of n.w) this.lanes.get(adapter)?.wake();
    });
    for (const lane of this.lanes.values()) lane.start();
    this.poller = setInterval(() => void this.poll(), this.o.config.env.COMMS_POLL_MS);
    this.poller.unref();
    const every = Math.max(250, Math.floor(this.o.config.env.COMMS_LEASE_MS / 3));
    this.reaper = setInterval(() => void this.reap(), every);
    this.reaper.unref();
    await this.reap();
  }

  /**
   * Stands in for lost or late NOTIFYs and finds rows scheduled for later: one statement for all
   * lanes per COMMS_POLL_MS (a probe per lane per poll cost 5 statements per process).
   */
  async poll(): Promise<void> {
    if (this.polling || !this.running) return;
    this.polling = true;
    try {
      for (const adapter of await dueAdapters(this.o.db, [...this.lanes.keys()]))
        this.lanes.get(adapter)?.wake();
    } catch (err) {
      this.o.logger.warn({ err: this.o.redactor.scrub(String(err)) }, 'due poll failed');
    } finally {
      this.polling = false;
    }
  }

  async reap(): Promise<number> {
    try {
      const n = await reclaimExpiredLeases(this.o.db, this.worker);
      if (n > 0) this.o.logger.warn({ rows: n }, 'reclaimed rows whose lease expired');
      return n;
    } catch (err) {
      this.o.logger.warn({ err: this.o.redactor.scrub(String(err)) }, 'lease reaper failed');
      return 0;
    }
  }

  wakeAll(): void {
    for (const l of this.lanes.values()) l.wake();
  }

  /** Graceful stop: no new claims; rows in flight finish within the grace or are released. */
  async stop(graceMs = this.o.config.env.COMMS_STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reaper) clearInterval(this.reaper);
    if (this.poller) clearInterval(this.poller);
    await this.unlisten?.();
    await Promise.all([...this.lanes.values()].map((l) => l.stop(graceMs)));
  }
}
