import pg from 'pg';
import { Backoff } from '../core/backoff.ts';

/**
 * LISTEN on one dedicated connection (a pooled one would lose its LISTENs when recycled). A lost
 * connection is re-made with backoff and its channels listened to again; wake-ups poll meanwhile.
 */
export class PgListener {
  private client: pg.Client | null = null;
  /** Waits between attempts to get the LISTEN connection back (wake-ups poll meanwhile). */
  private readonly listenBackoff = new Backoff({ baseMs: 500, capMs: 10_000 });
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private closed = false;

  constructor(
    private readonly connectionString: string,
    /** Splits a NOTIFY payload into the messages it carries (see Publisher). */
    private readonly unwrap: (payload: string) => string[],
  ) {}

  /** The handlers of `channel` in this process, for notices delivered without a round trip. */
  handlersOf(channel: string): ReadonlySet<(payload: string) => void> | undefined {
    return this.handlers.get(channel);
  }

  private async ensureListener(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = new pg.Client({ connectionString: this.connectionString });
    c.on('error', () => {
      // The listener reconnects lazily; wake-ups fall back to polling meanwhile.
      this.client = null;
      if (!this.closed) setTimeout(() => void this.relisten(), this.listenBackoff.next()).unref();
    });
    c.on('notification', (msg) => {
      const hs = this.handlers.get(msg.channel);
      if (!hs) return;
      for (const payload of this.unwrap(msg.payload ?? '')) for (const h of hs) h(payload);
    });
    await c.connect();
    this.client = c;
    return c;
  }

  private async relisten(): Promise<void> {
    if (this.closed || this.client) return;
    try {
      const c = await this.ensureListener();
      for (const ch of this.handlers.keys()) await c.query(`LISTEN "${ch}"`);
      this.listenBackoff.reset();
    } catch {
      if (!this.closed) setTimeout(() => void this.relisten(), this.listenBackoff.next()).unref();
    }
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error('invalid channel name');
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      const c = await this.ensureListener();
      await c.query(`LISTEN "${channel}"`);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const l = this.client;
    this.client = null;
    if (l) await l.end().catch(() => undefined);
  }
}
