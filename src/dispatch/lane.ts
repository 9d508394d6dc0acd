import type { Logger } from 'pino';
import type { Metrics } from '../kernel/metrics.ts';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { CompletionRecorder, STOP_RECORD_MS, type Finished } from '../store/completion-recorder.ts';
import { yieldIfEmbedded, type Db } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import { anyDue, claimByIds, claimDue, type ClaimedRow } from '../store/sql/claim.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { claimPaced, type Pace } from './pace.ts';
import { RateLimitPause } from './rate-limit-pause.ts';
import { attemptBatch, observeRecorded, type AttemptContext } from './row-attempt.ts';
import { Wakeup } from './wakeup.ts';

export interface LaneOptions {
  db: Db;
  config: Config;
  adapter: ProviderAdapter;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  worker: string;
  /** Sends in flight at most. */
  capacity: number;
  timeoutMs: number;
  /** Shared send rate of a live online lane (null: unpaced). */
  pace?: Pace | null;
  random?: () => number;
  /**
   * The dispatcher polls for due rows once for all its lanes and wakes the lanes that have some;
   * an idle lane then never probes on its own timer.
   */
  sharedPoll?: boolean;
}

// Pickup latency this costs stays far under the 20 ms target; see BENCHMARKS.md.
const CLAIM_LINGER_MS = 2;
const PGLITE_CLAIM_LINGER_MS = 6;
/**
 * Every dispatcher process hears every NOTIFY. A lane that wakes and finds the rows already taken
 * by another process doubles its linger (up to 2^4 times), and halves it again when it wins rows:
 * several dispatchers then claim bursts instead of each probing and claiming one row per notice.
 * A wake that finds nothing soon after the lane's own claim is not counted: that claim most likely
 * took the rows the notice announced. So a lone dispatcher's linger stays at the base.
 */
const MAX_CONTENTION = 4;
const OWN_CLAIM_MS = 100;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * One dispatch lane: claims due rows of one adapter, runs the gate, calls the adapter and records
 * the outcome. The LAN lane (lan_hub) and each online provider have their own lane, so a hung
 * provider can only fill its own lane.
 *
 * Each row frees its send slot as soon as its own send ends (a slow send does not hold its batch
 * mates), and finished rows are recorded together: whatever finished while the previous record
 * statement ran goes into the next one (group commit). A record that fails because the database is
 * briefly away is retried while the rows' leases last, so a database restart does not turn every
 * send in flight into a duplicate.
 */
export class Lane {
  private running = false;
  private stopping = false;
  /** The last claim found nothing. */
  private idle = false;
  /** Races lost lately to other dispatchers (0..MAX_CONTENTION): scales the claim linger. */
  private contention = 0;
  private lastClaimedAt = 0;
  /** Set by wake() and by polls: the reserved slot may try a claim. */
  private newWork = true;
  /** Rows in flight on this lane per tenant. */
  private readonly busyByTenant = new Map<string, number>();
  private inFlight = 0;
  private readonly recorder: CompletionRecorder;
  private readonly rateLimits: RateLimitPause;
  private readonly attempt: AttemptContext;
  /** Rung by wake(), by a freed slot and by stop(): the loop looks again. */
  private readonly wakeup = new Wakeup();
  private loop: Promise<void> | null = null;
  private readonly active = new Set<Promise<void>>();
  private readonly stopController = new AbortController();
  /** Rows offered by adopt(), claimed together on the next microtask (their slots are reserved). */
  private adopting: OutboxRow[] = [];
  private adoptClaiming = false;
  readonly breaker: CircuitBreaker;

  constructor(private readonly o: LaneOptions) {
    this.breaker = new CircuitBreaker();
    this.recorder = new CompletionRecorder({
      db: o.db,
      worker: o.worker,
      logger: o.logger,
      redactor: o.redactor,
      lane: o.adapter.id,
      onRecorded: (recorded) => observeRecorded(o.metrics, o.adapter.id, recorded),
    });
    this.rateLimits = new RateLimitPause(o);
    this.attempt = {
      ...o,
      breaker: this.breaker,
      rateLimits: this.rateLimits,
      stop: this.stopController.signal,
    };
  }

  get lanSafe(): boolean {
    return this.o.adapter.info.lanSafe;
  }

  get adapterId(): string {
    return this.o.adapter.id;
  }

  /** Sends in flight plus finished sends not yet recorded. */
  get busy(): number {
    return this.inFlight + this.recorder.pending;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New due work may exist (a NOTIFY named this lane): run a claim, the reserved slot included. */
  wake(): void {
    this.newWork = true;
    this.wakeup.ring();
  }

  /**
   * Takes over a row this process has just committed, due now, for this lane's adapter: it is
   * claimed by id at once, without the NOTIFY round trip, the wake-up and the fairness scan of a
   * normal claim (a kitchen ticket reaches the screens that much sooner). False when the lane cannot
   * take it now (stopped, full, paced, breaker open): the row is then announced to every dispatcher
   * as usual. A row claimed meanwhile by another dispatcher is simply not claimed here.
   */
  adopt(row: OutboxRow): boolean {
    if (!this.running || this.stopping || this.o.pace || row.adapter !== this.o.adapter.id) return false;
    if (this.breaker.isOpen) return false;
    if (this.inFlight + this.recorder.pending >= this.o.capacity) return false;
    this.inFlight++;
    this.adopting.push(row);
    if (!this.adoptClaiming) {
      this.adoptClaiming = true;
      queueMicrotask(() => this.track(this.claimAdopted()));
    }
    return true;
  }

  /**
   * One claim at a time: rows offered while a claim runs go together in the next one. So rows are
   * claimed, and handed to the adapter, in the order they were stored (a LAN device's seqs follow
   * enqueue order).
   */
  private async claimAdopted(): Promise<void> {
    try {
      while (this.adopting.length > 0) {
        const offered = this.adopting.splice(0);
        let rows: ClaimedRow[] = [];
        if (this.running) {
          try {
            rows = await claimByIds(this.o.db, {
              adapter: this.o.adapter.id,
              ids: offered.map((r) => r.id),
              worker: this.o.worker,
              leaseMs: this.o.config.env.COMMS_LEASE_MS,
            });
          } catch (err) {
            this.claimFailed(err);
          }
        }
        this.inFlight -= offered.length - rows.length;
        // Not claimed here (stopping, store error, or another dispatcher was faster): the normal
        // claim path looks again, since no NOTIFY announced these rows.
        if (rows.length < offered.length) this.wake();
        if (rows.length === 0) continue;
        this.lastClaimedAt = performance.now();
        this.begin(rows);
      }
    } finally {
      this.adoptClaiming = false;
    }
  }

  /**
   * Graceful stop: no new claims; sends in flight get `graceMs` to finish and be recorded. Sends
   * still running then are aborted and their rows released at once (back to `failed`, due now, with
   * an attempt row and audit event saying the send may have happened), so another dispatcher picks
   * them up without waiting for the lease. Only if the database cannot be reached do rows keep their
   * lease, to be reclaimed when it expires.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeup.ring();
    await this.loop;
    const settled = () => Promise.all([...this.active]).then(() => undefined);
    await Promise.race([settled(), sleep(graceMs)]);
    this.stopping = true;
    this.recorder.stopping = true;
    this.stopController.abort();
    // Aborted sends resolve at once (the adapter call races the abort signal).
    await Promise.race([settled(), sleep(1_000)]);
    await Promise.race([this.recorder.flushed(), sleep(STOP_RECORD_MS)]);
  }

  private async waitForWake(ms: number): Promise<void> {
    // A poll stands in for a lost or late NOTIFY (and finds rows scheduled for later).
    if ((await this.wakeup.wait(ms)) && !this.o.sharedPoll) this.newWork = true;
  }

  private async run(): Promise<void> {
    const { config, db } = this.o;
    // Finished-but-unrecorded rows count against the lane too: if the database is slow, the lane
    // stops claiming instead of piling up sends it cannot record.
    const maxPending = this.o.capacity + config.env.COMMS_BATCH_SIZE;
    const claimChunk = Math.max(1, Math.min(Math.ceil(this.o.capacity / 4), config.env.COMMS_BATCH_SIZE));
    // One slot of a lane of 4 or more is kept for tenants with nothing in flight here: a tenant
    // flooding the lane gets the rest, and another tenant's message never waits for a flood's send
    // to finish before it can start (noisy neighbour). A lone flood runs one slot short.
    const reserve = this.o.capacity >= 4 ? 1 : 0;
    // On PGlite, where every statement shares one connection, the linger is what keeps enqueue
    // fast. The LAN lane claims at once: a screen waits for every millisecond, and a burst then
    // costs a second claim (kitchen tickets come one by one, not in thousands).
    const base = this.o.adapter.info.lanSafe
      ? 0
      : db.kind === 'pglite'
        ? PGLITE_CLAIM_LINGER_MS
        : CLAIM_LINGER_MS;
    while (this.running) {
      await yieldIfEmbedded(db);
      const pause = this.rateLimits.remainingMs();
      if (pause > 0) {
        await this.waitForWake(Math.min(pause, config.env.COMMS_POLL_MS));
        continue;
      }
      const room = Math.min(
        maxPending - this.inFlight - this.recorder.pending,
        this.breaker.allowance(),
        config.env.COMMS_BATCH_SIZE,
      );
      let free = Math.min(this.o.capacity - reserve - this.inFlight, room);
      let exclude: string[] = [];
      // Claim in chunks of a quarter of the lane (or when it is empty), not one statement per
      // freed slot: the claim costs about the same for 1 row as for 25.
      const chunk = Math.min(claimChunk, this.breaker.allowance());
      let claimNow = free > 0 && (free >= chunk || this.inFlight + this.recorder.pending === 0);
      if (!claimNow && reserve > 0 && this.newWork && this.inFlight < this.o.capacity && room > 0) {
        // The reserved slot, tried only when new work was announced (not on every freed slot).
        free = Math.min(this.o.capacity - this.inFlight, room);
        exclude = [...this.busyByTenant.keys()];
        claimNow = true;
      }
      if (claimNow) {
        // An idle lane woken by an enqueue lingers a moment so the enqueues arriving together are
        // claimed (and recorded) together: one claim per burst instead of one per row.
        const woken = this.newWork && exclude.length === 0;
        if (base > 0 && woken && this.inFlight + this.recorder.pending === 0) {
          // Jittered once contended, so the dispatchers that lost do not wake in step again.
          const jitter = this.contention > 0 ? 0.5 + (this.o.random ?? Math.random)() : 1;
          await sleep(base * 2 ** this.contention * jitter);
        }
        this.newWork = false;
        let rows: ClaimedRow[] = [];
        try {
          // After an empty claim, probe before claiming again: idle lanes poll cheaply.
          if (this.idle && exclude.length === 0 && this.o.sharedPoll && !woken) {
            // Nothing announced since the last empty claim: the dispatcher's poll will wake us.
            await this.waitForWake(config.env.COMMS_POLL_MS);
            continue;
          }
          if (this.idle && exclude.length === 0 && !(await anyDue(db, this.o.adapter.id))) {
            if (woken) this.lostRace();
            await this.waitForWake(config.env.COMMS_POLL_MS);
            continue;
          }
          const claimed = await claimPaced(this.o.pace, free, (limit) =>
            claimDue(db, {
              adapter: this.o.adapter.id,
              limit,
              worker: this.o.worker,
              leaseMs: config.env.COMMS_LEASE_MS,
              excludeTenants: exclude,
            }),
          );
          if (claimed.waitMs > 0) {
            await this.waitForWake(Math.min(claimed.waitMs, config.env.COMMS_POLL_MS));
            // The rows are due; only the pace held them back.
            this.newWork = true;
            continue;
          }
          rows = claimed.rows;
          if (exclude.length === 0) this.idle = rows.length === 0;
          if (rows.length > 0) {
            this.lastClaimedAt = performance.now();
            if (woken) this.contention = Math.max(0, this.contention - 1);
          } else if (woken) {
            this.lostRace();
          }
        } catch (err) {
          this.claimFailed(err);
          await this.waitForWake(config.env.COMMS_POLL_MS);
          continue;
        }
        if (rows.length > 0) {
          this.inFlight += rows.length;
          this.begin(rows);
          continue;
        }
      }
      await this.waitForWake(config.env.COMMS_POLL_MS);
    }
  }

  private claimFailed(err: unknown): void {
    this.o.logger.warn({ err: this.o.redactor.scrub(String(err)), lane: this.adapterId }, 'claim failed');
  }

  /** A wake found its rows already claimed, by another dispatcher unless this lane just claimed. */
  private lostRace(): void {
    if (performance.now() - this.lastClaimedAt < OWN_CLAIM_MS) return;
    this.contention = Math.min(MAX_CONTENTION, this.contention + 1);
  }

  /** Starts the sends of claimed rows whose slots are already counted in inFlight. */
  private begin(rows: ClaimedRow[]): void {
    for (const r of rows) this.busyByTenant.set(r.tenant_id, (this.busyByTenant.get(r.tenant_id) ?? 0) + 1);
    const finished = (f: Finished) => {
      this.recorder.add(f, this.inFlight > 0);
      this.wakeup.ring();
    };
    this.track(attemptBatch(this.attempt, rows, (row) => this.settled(row), finished));
  }

  private track(p: Promise<void>): void {
    const t = p.finally(() => this.active.delete(t));
    this.active.add(t);
  }

  /** A row's send is over (whatever its outcome): its slot is free. */
  private settled(row: ClaimedRow): void {
    this.inFlight--;
    const n = (this.busyByTenant.get(row.tenant_id) ?? 1) - 1;
    if (n > 0) this.busyByTenant.set(row.tenant_id, n);
    else this.busyByTenant.delete(row.tenant_id);
  }
}
