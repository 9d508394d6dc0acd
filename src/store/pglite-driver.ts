import { PGlite } from '@electric-sql/pglite';
import { tenantPreamble, type Db, type Queryable, type QueryResult, type TxOptions } from './driver.ts';

/**
 * Embedded PGlite: zero-setup, one connection on the main thread. It starts Postgres with fsync off
 * and its file layer never calls fsync, so an acknowledged row survives a killed process but not a
 * power cut. PostgreSQL is the durable production store.
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  readonly durable = false;
  private constructor(private readonly pg: PGlite) {}

  static async open(opts: { dataDir?: string; loadDataDir?: Blob | File }): Promise<PgliteDb> {
    const pg = await PGlite.create(opts.dataDir ?? 'memory://', {
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    });
    return new PgliteDb(pg);
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.pg.query<T>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    return this.pg.transaction(async (t) => {
      const q: Queryable = {
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          const r = await t.query<R>(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      };
      if (opts.tenantId) await t.exec(tenantPreamble(opts.tenantId));
      return fn(q);
    });
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    return this.pg.listen(channel, handler);
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
  }
}
