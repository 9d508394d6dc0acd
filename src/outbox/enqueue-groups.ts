import { AppError } from '../core/errors.ts';
import type { Db } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import {
  insertOutboxRowAlone,
  insertOutboxRowsAlone,
  type HandOff,
  type InboxAtEnqueue,
  type NewOutboxRow,
} from '../store/sql/enqueue.ts';

interface Pending {
  draft: NewOutboxRow;
  resolve(row: OutboxRow | null): void;
  reject(err: unknown): void;
}

interface Group {
  waiting: Pending[];
  inFlight: number;
}

export interface GroupOptions {
  /** Statements of one tenant in flight at once; later messages wait and go together. */
  maxInFlight: number;
  /** Rows per statement. */
  maxRows: number;
}

/**
 * Group commit for single-message enqueues. A message is stored at once when its tenant has fewer
 * than `maxInFlight` statements running; otherwise it waits for one to finish and goes with every
 * other message that waited, as one statement and one commit. Nobody waits on a timer, and each
 * caller is answered only after the commit that holds its row, so an acknowledged message is as
 * durable as one stored alone. Under load the database does one statement and one WAL flush per
 * group instead of per message (see BENCHMARKS.md).
 */
export class EnqueueGroups {
  private readonly groups = new Map<string, Group>();

  /** Set when this process runs a lane that takes its own stored rows over (see Lane.adopt). */
  handOff: HandOff | null = null;
  /** Set when this process runs the LAN hub: in_app rows get their inbox entries as they are stored. */
  inbox: InboxAtEnqueue | null = null;

  constructor(
    private readonly db: Db,
    private readonly opts: GroupOptions = { maxInFlight: 2, maxRows: 200 },
  ) {}

  /** Stores one row; null when its idempotency key is already used (the caller replays). */
  submit(draft: NewOutboxRow): Promise<OutboxRow | null> {
    return new Promise((resolve, reject) => {
      let g = this.groups.get(draft.tenantId);
      if (!g) {
        g = { waiting: [], inFlight: 0 };
        this.groups.set(draft.tenantId, g);
      }
      g.waiting.push({ draft, resolve, reject });
      if (g.inFlight < this.opts.maxInFlight) this.flush(draft.tenantId, g);
    });
  }

  private flush(tenantId: string, g: Group): void {
    const batch = g.waiting.splice(0, this.opts.maxRows);
    if (batch.length === 0) {
      if (g.inFlight === 0) this.groups.delete(tenantId);
      return;
    }
    g.inFlight++;
    void this.store(tenantId, batch).finally(() => {
      g.inFlight--;
      this.flush(tenantId, g);
    });
  }

  private async store(tenantId: string, batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.storeAlone(batch[0]!);
    let stored: Map<string, OutboxRow>;
    try {
      stored = await insertOutboxRowsAlone(
        this.db,
        tenantId,
        batch.map((p) => p.draft),
        this.handOff,
        this.inbox,
      );
    } catch (err) {
      // Unreachable store: every caller gets the same answer (the outcome is shared). Any other
      // failure rolled the whole statement back, so each message is tried alone and only the one
      // at fault fails.
      if (err instanceof AppError) {
        for (const p of batch) p.reject(err);
        return;
      }
      await Promise.all(batch.map((p) => this.storeAlone(p)));
      return;
    }
    for (const p of batch) p.resolve(stored.get(p.draft.id) ?? null);
  }

  private async storeAlone(p: Pending): Promise<void> {
    try {
      p.resolve(await insertOutboxRowAlone(this.db, p.draft, this.handOff, this.inbox));
    } catch (err) {
      p.reject(err);
    }
  }
}
