import { randomBytes } from 'node:crypto';

/**
 * Change notifications sent after commit, coalesced. A NOTIFY inside a transaction takes
 * PostgreSQL's global notification lock at COMMIT and holds it through the WAL flush, which turns
 * every concurrent enqueue into a queue behind one lock. So writers publish after their commit;
 * everything published in the same tick leaves as one NOTIFY per channel (payloads wrapped in an
 * envelope, chunked under NOTIFY's 8000-byte limit). Local listeners get the payload at once; the
 * envelope carries this process's origin so it skips its own echo.
 */
const ENVELOPE = '\u0002';
// Payload bytes per NOTIFY: below the 8000-byte server limit with room for the envelope.
const MAX_BATCH_BYTES = 7_000;
/**
 * How long a lazy notice (a status change nobody waits on) may wait for company. Dispatchers record
 * claims and completions in small batches; each used to cost its own NOTIFY statement, delivered to
 * and parsed by every listening process.
 */
const LAZY_MS = 20;

export interface Envelope {
  o: string;
  m: string[];
}

export class Publisher {
  readonly origin = randomBytes(6).toString('hex');
  private readonly pending = new Map<string, string[]>();
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | null = null;

  constructor(
    /** Delivers to this process's listeners. */
    private readonly local: (channel: string, payload: string) => void,
    /** Sends the NOTIFYs to other processes (absent for an embedded single-process store). */
    private readonly send: ((notices: [string, string][]) => Promise<void>) | null,
  ) {}

  /** Delivers locally at once; other processes get it in this tick's NOTIFY, or within LAZY_MS. */
  publish(channel: string, payload: string, lazy = false): void {
    this.local(channel, payload);
    if (!this.send) return;
    const list = this.pending.get(channel) ?? [];
    list.push(payload);
    this.pending.set(channel, list);
    if (this.scheduled) return;
    if (!lazy) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    } else if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => void this.flush(), LAZY_MS);
    }
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
    if (this.pending.size === 0) return;
    const notices: [string, string][] = [];
    for (const [channel, payloads] of this.pending) {
      let batch: string[] = [];
      let size = 0;
      for (const p of payloads) {
        if (batch.length && size + p.length > MAX_BATCH_BYTES) {
          notices.push([channel, wrap(this.origin, batch)]);
          batch = [];
          size = 0;
        }
        batch.push(p);
        size += p.length + 3;
      }
      if (batch.length) notices.push([channel, wrap(this.origin, batch)]);
    }
    this.pending.clear();
    // A lost wake-up only delays work until the next poll: nothing depends on delivery.
    await this.send!(notices).catch(() => undefined);
  }

  /** Unwraps a received notification: the payloads to hand to listeners (none for our own echo). */
  unwrap(payload: string): string[] {
    if (!payload.startsWith(ENVELOPE)) return [payload];
    try {
      const e = JSON.parse(payload.slice(1)) as Envelope;
      return e.o === this.origin ? [] : e.m;
    } catch {
      return [];
    }
  }
}

function wrap(origin: string, m: string[]): string {
  return ENVELOPE + JSON.stringify({ o: origin, m } satisfies Envelope);
}
