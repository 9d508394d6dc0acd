import type { Config } from '../config/config.ts';
import { nextDelayMs } from '../core/backoff.ts';
import type { Redactor } from '../core/redact.ts';
import { gateFor, modeOf } from '../outbox/gate-inputs.ts';
import type { ProviderAdapter, SendResult } from '../providers/types.ts';
import type { Db } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import { claimDue, type ClaimedRow } from '../store/sql/claim.ts';
import { completeBatch, type Completion } from '../store/sql/complete.ts';
import type { Metrics } from '../app/metrics.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { Logger } from 'pino';

export interface LaneOptions {
  db: Db;
  config: Config;
  adapter: ProviderAdapter;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  worker: string;
  /** Rows in flight at most. */
  capacity: number;
  timeoutMs: number;
  random?: () => number;
}

const TIMEOUT = Symbol('timeout');

/**
 * One dispatch lane: claims due rows of one adapter, runs the gate, calls the adapter and records
 * the outcome. The LAN lane (lan_hub) and each online provider have their own lane, so a hung
 * provider can only fill its own lane.
 */
export class Lane {
  private running = false;
  private inFlight = 0;
  private wakeFlag = false;
  private wakeResolve: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly active = new Set<Promise<void>>();
  private readonly stopController = new AbortController();
  readonly breaker: CircuitBreaker;

  constructor(private readonly o: LaneOptions) {
    this.breaker = new CircuitBreaker();
  }

  get adapterId(): string {
    return this.o.adapter.id;
  }

  get busy(): number {
    return this.inFlight;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeFlag = true;
    this.wakeResolve?.();
  }

  /** Stops claiming, waits for the rows in flight to be recorded (up to graceMs). */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const settle = Promise.all([...this.active]);
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([settle, timer]);
    // Whatever is still in flight keeps its lease; another dispatcher reclaims it when it expires.
    this.stopController.abort();
  }

  private async waitForWake(ms: number): Promise<void> {
    if (this.wakeFlag) {
      this.wakeFlag = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeResolve = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wakeResolve = null;
    this.wakeFlag = false;
  }

  private async run(): Promise<void> {
    const { config, db } = this.o;
    while (this.running) {
      const free = Math.min(this.o.capacity - this.inFlight, this.breaker.allowance(), config.env.COMMS_BATCH_SIZE);
      if (free > 0) {
        let rows: ClaimedRow[] = [];
        try {
          rows = await claimDue(db, {
            adapter: this.o.adapter.id,
            limit: free,
            worker: this.o.worker,
            leaseMs: config.env.COMMS_LEASE_MS,
          });
        } catch (err) {
          this.o.logger.warn({ err: this.o.redactor.scrub(String(err)), lane: this.adapterId }, 'claim failed');
          await this.waitForWake(config.env.COMMS_POLL_MS);
          continue;
        }
        if (rows.length > 0) {
          this.inFlight += rows.length;
          const p = this.processBatch(rows).finally(() => {
            this.inFlight -= rows.length;
            this.active.delete(p);
            this.wake();
          });
          this.active.add(p);
          continue;
        }
      }
      await this.waitForWake(config.env.COMMS_POLL_MS);
    }
  }

  private async loadTenants(ids: string[]): Promise<Map<string, TenantRow>> {
    const r = await this.o.db.query<TenantRow>('SELECT * FROM tenants WHERE id = ANY($1::text[])', [ids]);
    return new Map(r.rows.map((t) => [t.id, t]));
  }

  private async processBatch(rows: ClaimedRow[]): Promise<void> {
    let tenants: Map<string, TenantRow>;
    try {
      tenants = await this.loadTenants([...new Set(rows.map((r) => r.tenant_id))]);
    } catch (err) {
      this.o.logger.warn({ err: this.o.redactor.scrub(String(err)) }, 'tenant load failed; leases will expire');
      return;
    }
    const completions = await Promise.all(rows.map((row) => this.processRow(row, tenants.get(row.tenant_id))));
    try {
      await completeBatch(this.o.db, this.o.worker, completions);
    } catch (err) {
      // The rows keep their lease and are reclaimed when it expires: at-least-once, nothing lost.
      this.o.logger.error({ err: this.o.redactor.scrub(String(err)), lane: this.adapterId }, 'recording a batch failed');
      return;
    }
    for (const c of completions) {
      const row = rows.find((r) => r.id === c.id)!;
      const since = Math.max(new Date(row.send_at).getTime(), new Date(row.created_at).getTime());
      this.o.metrics.dispatchLatency.observe({ adapter: this.adapterId, outcome: c.outcome }, (c.finishedAt.getTime() - since) / 1000);
      this.o.metrics.attempts.inc({ adapter: this.adapterId, outcome: c.outcome });
    }
  }

  private async processRow(row: ClaimedRow, tenant: TenantRow | undefined): Promise<Completion> {
    const { adapter, config, redactor } = this.o;
    const startedAt = new Date();
    const base = {
      id: row.id,
      attempt: row.attempts,
      adapter: adapter.id,
      startedAt,
      providerMessageId: null,
      nextAttemptAt: null,
      response: null,
      errorCode: null,
      errorMessage: null,
    };
    const finish = (c: Partial<Completion> & Pick<Completion, 'status' | 'outcome' | 'reason' | 'mode' | 'request'>): Completion => ({
      ...base,
      ...c,
      finishedAt: new Date(),
    });

    if (!tenant) {
      return finish({ status: 'dead', outcome: 'permanent', reason: 'tenant no longer exists', mode: 'dry_run', request: null, errorCode: 'no_tenant' });
    }
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) {
      return finish({ status: 'expired', outcome: 'expired', reason: 'time to live passed before sending', mode: row.mode ?? 'dry_run', request: null });
    }
    const decision = gateFor(config, adapter, tenant.opt_ins, row.channel);
    const mode = modeOf(decision, row.channel) ?? 'dry_run';
    if (decision.kind === 'queue') {
      return finish({ status: 'queued', outcome: 'queued', reason: decision.reason, mode, request: null });
    }
    if (decision.kind === 'block') {
      return finish({ status: 'blocked', outcome: 'blocked', reason: decision.reason, mode, request: null });
    }
    if (decision.kind === 'dry_run') {
      const request = adapter.render(row);
      return finish({ status: 'mock_sent', outcome: 'mock_sent', reason: decision.reason, mode, request });
    }

    // Live (or LAN): bounded by a timeout even if the adapter ignores its signal.
    const signal = AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.stopController.signal]);
    this.breaker.onStart();
    let result: SendResult | typeof TIMEOUT;
    try {
      result = await Promise.race([
        adapter.send(row, { signal, tenant }),
        new Promise<typeof TIMEOUT>((resolve) => {
          if (signal.aborted) resolve(TIMEOUT);
          signal.addEventListener('abort', () => resolve(TIMEOUT), { once: true });
        }),
      ]);
    } catch (err) {
      result = {
        outcome: 'retryable',
        errorCode: 'adapter_error',
        errorMessage: redactor.scrub(err instanceof Error ? err.message : String(err)),
        request: adapter.render(row),
      };
    }
    if (result === TIMEOUT) {
      result = {
        outcome: 'retryable',
        errorCode: 'timeout',
        errorMessage: `provider call exceeded ${this.o.timeoutMs} ms`,
        request: adapter.render(row),
      };
    }
    const request = redactor.scrubValue(result.request);
    const response = redactor.scrubValue(result.response ?? null);
    if (result.outcome === 'sent' || result.outcome === 'delivered') {
      this.breaker.onSuccess();
      return finish({
        status: result.outcome,
        outcome: result.outcome,
        reason: mode === 'lan' ? 'handed to the LAN hub' : 'accepted by the provider',
        mode,
        request,
        response,
        providerMessageId: result.providerMessageId,
      });
    }
    const errorMessage = redactor.scrub(result.errorMessage);
    if (result.outcome === 'permanent') {
      this.breaker.onSuccess();
      return finish({
        status: result.finalStatus ?? 'dead',
        outcome: 'permanent',
        reason: `${result.errorCode}: ${errorMessage}`,
        mode,
        request,
        response,
        errorCode: result.errorCode,
        errorMessage,
      });
    }
    // Retryable or rate limited: back off (honouring the provider's wait) unless the budget is spent.
    if (result.outcome === 'retryable') this.breaker.onFailure();
    else this.breaker.onSuccess();
    this.o.metrics.circuitOpen.set({ adapter: adapter.id }, this.breaker.isOpen ? 1 : 0);
    if (row.attempts >= row.max_attempts) {
      return finish({
        status: 'dead',
        outcome: result.outcome,
        reason: `attempts exhausted (${row.attempts}); last error ${result.errorCode}: ${errorMessage}`,
        mode,
        request,
        response,
        errorCode: result.errorCode,
        errorMessage,
      });
    }
    const delay = nextDelayMs(
      row.attempts,
      { baseMs: config.env.COMMS_RETRY_BASE_MS, capMs: config.env.COMMS_RETRY_CAP_MS },
      this.o.random,
      result.retryAfterMs,
    );
    return finish({
      status: 'failed',
      outcome: result.outcome,
      reason: `${result.errorCode}: ${errorMessage}; retry in ${Math.round(delay / 100) / 10} s`,
      mode,
      request,
      response,
      errorCode: result.errorCode,
      errorMessage,
      nextAttemptAt: new Date(Date.now() + delay),
    });
  }
}
