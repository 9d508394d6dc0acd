import type { Logger } from 'pino';
import { Backoff } from '../core/backoff.ts';
import type { Redactor } from '../core/redact.ts';
import type { Db } from './driver.ts';
import type { ClaimedRow } from './sql/claim.ts';
import { completeBatch, type Completion } from './sql/complete.ts';

/** A finished send waiting to be recorded. */
export interface Finished {
  row: ClaimedRow;
  completion: Completion;
}

export interface RecorderOptions {
  db: Db;
  worker: string;
  logger: Logger;
  redactor: Redactor;
  /** Names the lane in log lines. */
  lane: string;
  /** Called with the finished sends whose outcome was recorded (for metrics). */
  onRecorded(recorded: Finished[]): void;
}

/** Completions recorded per statement at most. */
const RECORD_BATCH = 500;
/** Longest wait before finished rows are recorded while other sends of the lane are in flight. */
const FLUSH_LINGER_MS = 5;
/** Stop waiting for the database after this long when stopping (the leases cover the rest). */
export const STOP_RECORD_MS = 3_000;

/** Retry waits of a record while the database is away. */
const RECORD_RETRY = { baseMs: 100, capMs: 2_000 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Group commit of a lane's finished sends: whatever finished while the previous record statement
 * ran goes into the next one. A record that fails because the database is briefly away is retried
 * while the rows' leases last, so a database restart does not turn every send in flight into a
 * duplicate; past the lease the rows are left to be reclaimed (at-least-once, nothing lost).
 */
export class CompletionRecorder {
  private readonly unrecorded: Finished[] = [];
  private recording: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Set when the lane stops: records go out at once and give up sooner. */
  stopping = false;

  constructor(private readonly o: RecorderOptions) {}

  /** Finished sends not yet recorded. */
  get pending(): number {
    return this.unrecorded.length;
  }

  /**
   * Queues a finished send. It is recorded at once when nothing else is in flight, else after a
   * short linger so rows finishing close together share one statement (the store may be busy in
   * this very thread, as PGlite is, and then nothing would accumulate on its own).
   */
  add(finished: Finished, othersInFlight: boolean): void {
    this.unrecorded.push(finished);
    this.schedule(othersInFlight);
  }

  /** Resolves when every finished row has been recorded (or given up on). */
  async flushed(): Promise<void> {
    if (this.unrecorded.length > 0) this.schedule(false);
    while (this.recording) await this.recording;
  }

  private schedule(othersInFlight: boolean): void {
    if (this.recording) return;
    if (!othersInFlight || this.stopping) {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      this.recording = this.flush();
      return;
    }
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      this.recording ??= this.flush();
    }, FLUSH_LINGER_MS);
  }

  private async flush(): Promise<void> {
    // Yield first, so `recording` is set before the finally below can clear it.
    await Promise.resolve();
    try {
      while (this.unrecorded.length > 0) await this.record(this.unrecorded.splice(0, RECORD_BATCH));
    } finally {
      this.recording = null;
    }
  }

  private async record(batch: Finished[]): Promise<void> {
    const { logger, redactor, lane } = this.o;
    const leaseEnd = Math.min(...batch.map((f) => new Date(f.row.lease_expires_at ?? 0).getTime()));
    const stopBy = Date.now() + STOP_RECORD_MS;
    const backoff = new Backoff(RECORD_RETRY);
    let recorded: Set<string>;
    for (;;) {
      try {
        recorded = await completeBatch(
          this.o.db,
          this.o.worker,
          batch.map((f) => f.completion),
        );
        break;
      } catch (err) {
        const delay = backoff.next();
        const deadline = this.stopping ? Math.min(leaseEnd, stopBy) : leaseEnd;
        if (Date.now() + delay >= deadline) {
          // The rows keep their lease and are reclaimed when it expires: at-least-once, nothing lost.
          logger.error(
            { err: redactor.scrub(String(err)), lane, rows: batch.length },
            'recording a batch failed; leases will expire',
          );
          return;
        }
        logger.warn(
          { err: redactor.scrub(String(err)), lane, rows: batch.length },
          'recording a batch failed; retrying',
        );
        await sleep(delay);
      }
    }
    const lost = batch.length - recorded.size;
    if (lost > 0) {
      // Our lease ran out and the reaper (or another dispatcher) took the row over: its new owner
      // records it. The send we made is the duplicate the lease_expired audit event explains.
      logger.warn({ lane, rows: lost }, 'lease lost before the outcome was recorded');
    }
    this.o.onRecorded(batch.filter((f) => recorded.has(f.completion.id)));
  }
}
