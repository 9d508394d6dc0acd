import type { Db } from '../store/driver.ts';
import { markLanDelivered } from '../store/sql/lan-delivered.ts';
import { connectionKey, type DeviceConnection } from './connection.ts';
import { recordAcks, type AckRange } from './inbox.ts';

/** Acks are coalesced for this long and written in one statement, one row per device (losing them
 * in a crash = a re-send, never a loss). Longer = less database work per notification; the cost is
 * that `delivered` shows up to this much later. */
const ACK_FLUSH_MS = 200;
/** After a failed write the coalesced acks are retried this much later. */
const RETRY_MS = 500;

export interface AckFlusherDeps {
  db: Db;
  /** False once the hub stops: a failed flush is then not rescheduled. */
  running: () => boolean;
  warn: (msg: string, err: unknown) => void;
}

/** Collects device acks and rows to look at, writes them in coalesced batches and moves fully acked
 * rows to `delivered`. */
export class AckFlusher {
  private acks = new Map<string, AckRange>();
  private toCheck = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly d: AckFlusherDeps) {}

  /** Everything up to `to` on this socket is acknowledged. */
  queueAck(conn: DeviceConnection, to: number): void {
    const cur = this.acks.get(conn.key);
    if (cur) cur.to = Math.max(cur.to, to);
    else
      this.acks.set(conn.key, { tenantId: conn.tenantId, deviceId: conn.deviceId, from: conn.ackedSeq, to });
    conn.ackedSeq = Math.max(conn.ackedSeq, to);
    this.schedule();
  }

  /** A row became `sent`: if its acks already came, the next flush finishes it. */
  check(outboxId: string): void {
    this.toCheck.add(outboxId);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ACK_FLUSH_MS);
    this.timer.unref();
  }

  /** Drops the pending timer and writes what is collected now. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Writes coalesced acks, then moves rows that every target acked to `delivered`. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.acks.size === 0 && this.toCheck.size === 0) return;
    const ranges = [...this.acks.values()];
    const ids = this.toCheck;
    this.acks = new Map();
    this.toCheck = new Set();
    const run = (async () => {
      let acked = false;
      try {
        for (const id of await recordAcks(this.d.db, ranges)) ids.add(id);
        acked = true;
        if (ids.size > 0) await markLanDelivered(this.d.db, [...ids]);
      } catch (err) {
        this.d.warn('recording device acks failed; retrying', err);
        if (!acked) this.requeue(ranges);
        for (const id of ids) this.toCheck.add(id);
        if (this.d.running()) setTimeout(() => this.schedule(), RETRY_MS).unref();
      }
    })();
    this.flushing = run;
    try {
      await run;
    } finally {
      this.flushing = null;
    }
  }

  /** Merges ranges that failed to write with those collected meanwhile. */
  private requeue(ranges: readonly AckRange[]): void {
    for (const r of ranges) {
      const key = connectionKey(r.tenantId, r.deviceId);
      const cur = this.acks.get(key);
      if (cur) {
        cur.from = Math.min(cur.from, r.from);
        cur.to = Math.max(cur.to, r.to);
      } else this.acks.set(key, r);
    }
  }
}
