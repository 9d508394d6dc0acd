import { PGlite } from '@electric-sql/pglite';
import { Publisher } from './publisher.ts';
import {
  tenantPreamble,
  type AtomicOptions,
  type Db,
  type PublishOptions,
  type Queryable,
  type QueryResult,
  type TxOptions,
} from './driver.ts';

/**
 * Embedded PGlite: zero-setup, one connection on the main thread. It starts Postgres with fsync off
 * and its file layer never calls fsync, so an acknowledged row survives a killed process but not a
 * power cut. PostgreSQL is the durable production store.
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  readonly durable = false;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  // One process owns an embedded store: publishing is local delivery, no NOTIFY needed.
  private readonly publisher = new Publisher((channel, payload) => this.deliver(channel, payload), null);
  private constructor(
    private readonly pg: PGlite,
    private readonly onClose?: () => void,
  ) {}

  private deliver(channel: string, payload: string): void {
    const hs = this.handlers.get(channel);
    if (hs) for (const h of [...hs]) queueMicrotask(() => h(payload));
  }

  publish(channel: string, payload: string, opts?: PublishOptions): void {
    this.publisher.publish(channel, payload, opts?.lazy === true);
  }

  /**
   * `settings`: PostgreSQL settings for this start (e.g. shared_buffers), on top of PGlite's own.
   * `onClose` runs after the store closed (openStore releases the data directory's lock there).
   */
  static async open(opts: {
    dataDir?: string;
    loadDataDir?: Blob | File;
    settings?: Record<string, string>;
    onClose?: () => void;
  }): Promise<PgliteDb> {
    const settings = Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
    const pg = await PGlite.create(opts.dataDir ?? 'memory://', {
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
      ...(settings.length ? { startParams: [...PGlite.defaultStartParams, ...settings] } : {}),
    });
    return new PgliteDb(pg, opts.onClose);
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.pg.query<T>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  // In-process: the answer cannot be lost between the store and the caller.
  atomic<T>(sql: string, params: readonly unknown[], _opts: AtomicOptions<T>): Promise<QueryResult<T>> {
    return this.query<T>(sql, params);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const published: [string, string, PublishOptions | undefined][] = [];
    const out = await this.pg.transaction(async (t) => {
      const q: Queryable = {
        publish: (channel: string, payload: string, po?: PublishOptions) => {
          published.push([channel, payload, po]);
        },
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          const r = await t.query<R>(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      };
      if (opts.readOnly) await t.exec('SET TRANSACTION READ ONLY');
      if (opts.tenantId) await t.exec(tenantPreamble(opts.tenantId));
      return fn(q);
    });
    for (const [c, p, po] of published) this.publish(c, p, po);
    return out;
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    // SQL-side pg_notify (not on hot paths) still reaches listeners through PGlite's own LISTEN.
    const off = await this.pg.listen(channel, handler);
    return async () => {
      set.delete(handler);
      await off();
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.pg.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async ping(): Promise<boolean> {
    try {
      await this.pg.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async dumpDataDir(): Promise<Blob> {
    return this.pg.dumpDataDir('none');
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
    this.onClose?.();
  }
}
