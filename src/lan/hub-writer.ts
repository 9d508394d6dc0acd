import type { Db } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import type { WrittenEntry } from '../store/sql/enqueue.ts';
import type { ConnectionRegistry } from './hub-registry.ts';
import { appendToInboxes } from './inbox.ts';

/** Rows written per inbox transaction; rows that arrive while one is in flight wait for the next. */
const WRITE_BATCH = 256;
/** Rows remembered as written at enqueue, awaiting their delivery by this process's lane. */
const WRITTEN_HERE_MAX = 10_000;

export interface InboxWriterDeps {
  db: Db;
  hubId: string;
  conns: ConnectionRegistry;
  worker?: () => string | null;
  written?: (tenantId: string, deviceIds: readonly string[]) => void;
}

interface PendingDelivery {
  row: OutboxRow;
  resolve: (v: { devices: string[] }) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes the LAN lane's rows into device inboxes in batches and pushes the new entries to the
 * sockets held here; also takes the entries written when a row was stored in this process.
 */
export class InboxWriter {
  private readonly queue: PendingDelivery[] = [];
  /** Rows whose inbox entries were written as they were stored here: row id → its devices. */
  private readonly writtenHere = new Map<string, string[]>();
  private writing = false;

  constructor(private readonly d: InboxWriterDeps) {}

  /** Resolves once the batch in progress (and anything queued behind it) is written. */
  async idle(): Promise<void> {
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
  }

  deliver(row: OutboxRow): Promise<{ devices: string[] }> {
    // Written when it was stored, in this process: its devices are known, nothing is left to write.
    const known = this.writtenHere.get(row.id);
    if (known) {
      this.writtenHere.delete(row.id);
      return Promise.resolve({ devices: known });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // The lane hands over a whole claimed batch synchronously; start after it to write it at once.
        queueMicrotask(() => void this.writeLoop());
      }
    });
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, WRITE_BATCH);
        // Oldest first (stable for equal times), so one dispatcher keeps enqueue order per device.
        batch.sort((a, b) => new Date(a.row.created_at).getTime() - new Date(b.row.created_at).getTime());
        try {
          const { devicesByOrd, entries } = await appendToInboxes(
            this.d.db,
            this.d.hubId,
            batch.map((p, ord) => ({
              ord,
              outboxId: p.row.id,
              tenantId: p.row.tenant_id,
              target: p.row.target,
              createdAt: new Date(p.row.created_at),
            })),
            this.d.worker?.() ?? null,
          );
          for (const e of entries) this.d.written?.(e.tenantId, [e.deviceId]);
          this.d.conns.pushEntries(entries, new Map(batch.map((p) => [p.row.id, p.row])));
          batch.forEach((p, ord) => p.resolve({ devices: devicesByOrd.get(ord) ?? [] }));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Entries written when their row was stored (see InboxAtEnqueue), told right after that commit:
   * pushed to this process's sockets at once. `null`: the entries exist but are unknown here (the
   * answer was lost and the row read back), so the tenant's sockets re-read their inboxes.
   */
  pushWritten(row: OutboxRow, entries: readonly WrittenEntry[] | null): void {
    const { conns } = this.d;
    if (entries !== null) {
      this.d.written?.(
        row.tenant_id,
        entries.map((e) => e.deviceId),
      );
      // Its delivery by this process's lane then needs no second look at the inboxes. Bounded: a
      // row whose delivery happens elsewhere (lane full, another dispatcher) is never asked for.
      if (this.writtenHere.size >= WRITTEN_HERE_MAX)
        this.writtenHere.delete(this.writtenHere.keys().next().value!);
      this.writtenHere.set(
        row.id,
        entries.map((e) => e.deviceId),
      );
    }
    if (conns.size === 0) return;
    if (entries === null) {
      conns.drainTenant(row.tenant_id);
      return;
    }
    conns.pushEntries(
      entries.map((e) => ({ tenantId: row.tenant_id, deviceId: e.deviceId, seq: e.seq, outboxId: row.id })),
      new Map([[row.id, row]]),
    );
  }
}
