import type { Logger } from 'pino';
import type { Metrics } from '../kernel/metrics.ts';
import type { Config } from '../config/config.ts';
import { nextDelayMs } from '../core/backoff.ts';
import type { Redactor } from '../core/redact.ts';
import type { OutboxService } from '../outbox/service.ts';
import { yieldIfEmbedded, type Db } from '../store/driver.ts';
import {
  claimReceipts,
  failReceipt,
  finishReceipt,
  pruneReceipts,
  RECEIPTS_CHANNEL,
  type ReceiptRow,
  type WebhookProvider,
} from './receipts.ts';
import { releaseReceipts } from '../store/sql/webhook-receipts.ts';
import { processTelegram } from './telegram-process.ts';
import { processWhatsApp, retryUnmatched } from './whatsapp-process.ts';

export interface ProcessorHooks {
  /**
   * Called before each stored delivery is processed, outside any transaction, with a signal that
   * aborts on stop. Tests stall processing here to show that acknowledging never waits for it.
   */
  beforeProcess?(receipt: { id: string; provider: WebhookProvider }, signal: AbortSignal): Promise<void>;
}

export interface ProcessorOptions {
  db: Db;
  config: Config;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  outbox: OutboxService;
  hooks?: ProcessorHooks;
}

/** Deliveries claimed per round. */
const BATCH = 50;
/** A claimed delivery is another processor's to take if this one has not finished it by then. */
const LEASE_MS = 60_000;
/** A delivery that keeps failing (a bug, not a payload: payloads are parsed defensively) is given up. */
const MAX_ATTEMPTS = 10;
const BACKOFF = { baseMs: 1_000, capMs: 300_000 };
/** Statuses that arrived before their send was recorded are retried for this long. */
export const UNMATCHED_WINDOW_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 1_000;
/** Processed deliveries are kept a week (their messages live on in inbound_messages). */
const RETENTION_MS = 7 * 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * The "process" half of store-then-process: claims stored webhook deliveries, applies each in its
 * own transaction (inbound record, outbox status, Telegram link) and marks it processed in that same
 * transaction. Woken by NOTIFY when a delivery is stored, and polls as a fallback.
 */
export class WebhookProcessor {
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wakeFlag = false;
  private wakeResolve: (() => void) | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private readonly controller = new AbortController();
  private lastSweep = 0;
  private lastPrune = 0;
  private readonly log: Logger;

  constructor(private readonly o: ProcessorOptions) {
    this.log = o.logger;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.unlisten = await this.o.db.listen(RECEIPTS_CHANNEL, () => this.wake());
    this.loop = this.run();
  }

  wake(): void {
    this.wakeFlag = true;
    this.wakeResolve?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.controller.abort();
    this.wake();
    await this.loop;
    this.loop = null;
    await this.unlisten?.();
    this.unlisten = null;
  }

  /** Processes everything pending now (one pass after another until a claim finds nothing). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.round();
      total += n;
      if (n === 0) return total;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await yieldIfEmbedded(this.o.db);
      let n = 0;
      try {
        n = await this.round();
        await this.housekeeping();
      } catch (err) {
        this.log.error({ err: this.o.redactor.scrub(String(err)) }, 'webhook processor round failed');
      }
      if (n === 0 && !this.stopping) await this.sleep(this.o.config.env.COMMS_POLL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeFlag) {
      this.wakeFlag = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakeFlag = false;
        this.wakeResolve = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.wakeResolve = done;
    });
  }

  private async round(): Promise<number> {
    const claimed = await claimReceipts(this.o.db, BATCH, LEASE_MS);
    let done = 0;
    for (const r of claimed) {
      if (this.stopping) break;
      try {
        await this.o.hooks?.beforeProcess?.({ id: r.id, provider: r.provider }, this.controller.signal);
      } catch {
        // Aborted by stop: the delivery is released below and processed by whoever runs next.
      }
      if (this.stopping) break;
      await this.processOne(r);
      done++;
    }
    const left = claimed.slice(done).map((r) => r.id);
    if (left.length) {
      // Claimed but not started (stopping): make them due again now rather than after the lease.
      await releaseReceipts(this.o.db, left).catch(() => undefined);
    }
    return claimed.length;
  }

  private async processOne(r: ReceiptRow): Promise<void> {
    const deps = {
      config: this.o.config,
      redactor: this.o.redactor,
      metrics: this.o.metrics,
      logger: this.log,
      outbox: this.o.outbox,
    };
    const receivedAt = new Date(r.received_at);
    try {
      const summary = await this.o.db.tx(async (q) => {
        if (!(await finishReceipt(q, r.id))) return null;
        const body: unknown = JSON.parse(r.body);
        return r.provider === 'whatsapp'
          ? processWhatsApp(q, deps, body, receivedAt)
          : processTelegram(q, deps, body, receivedAt);
      });
      if (summary)
        this.log.debug({ receipt: r.id, provider: r.provider, summary }, 'webhook delivery processed');
    } catch (err) {
      const final = r.attempts >= MAX_ATTEMPTS;
      const message = this.o.redactor.scrub(err instanceof Error ? err.message : String(err));
      this.log.error(
        { receipt: r.id, provider: r.provider, attempt: r.attempts, final, err: message },
        'webhook delivery could not be processed',
      );
      await failReceipt(this.o.db, r.id, message, nextDelayMs(r.attempts, BACKOFF), final).catch(
        () => undefined,
      );
    }
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = now;
      const applied = await this.o.db.tx((q) => retryUnmatched(q, UNMATCHED_WINDOW_MS));
      if (applied) this.log.info({ applied }, 'late-matched WhatsApp statuses applied');
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      const pruned = await pruneReceipts(this.o.db, RETENTION_MS);
      if (pruned) this.log.info({ pruned }, 'old webhook deliveries pruned');
    }
  }
}
