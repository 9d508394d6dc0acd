import pg from 'pg';
import { Publisher } from './publisher.ts';
import {
  tenantPreamble,
  type AtomicOptions,
  type Db,
  type PublishOptions,
  type Queryable,
  type QueryOptions,
  type QueryResult,
  type TxOptions,
} from './driver.ts';
import { AppError } from '../core/errors.ts';
import { checkout, queryConfig } from './pg-client.ts';
import { isUnavailable, wrapUnavailable as wrap } from './pg-errors.ts';
import { PgListener } from './pg-listener.ts';
import { LostAnswer } from './pg-lost-answer.ts';

export { isUnavailable } from './pg-errors.ts';

// int8 (counts, audit ids) as JS numbers: they stay far below 2^53 here, and PGlite does the same.
pg.types.setTypeParser(20, (v) => Number(v));

export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly durable = true;
  private readonly publisher = new Publisher(
    (channel, payload) => this.deliver(channel, payload),
    async (notices) => {
      if (notices.length === 0) return;
      const sql = `SELECT ${notices.map((_, i) => `pg_notify($${i * 2 + 1}, $${i * 2 + 2})`).join(', ')}`;
      await this.pool.query(sql, notices.flat());
    },
  );

  private deliver(channel: string, payload: string): void {
    const hs = this.listener.handlersOf(channel);
    if (hs) for (const h of [...hs]) queueMicrotask(() => h(payload));
  }

  publish(channel: string, payload: string, opts?: PublishOptions): void {
    this.publisher.publish(channel, payload, opts?.lazy === true);
  }
  private closed = false;
  private readonly listener: PgListener;
  private readonly lost: LostAnswer;

  constructor(
    private readonly pool: pg.Pool,
    connectionString: string,
  ) {
    // An idle client that loses its server emits here; without a handler the process would crash.
    pool.on('error', () => undefined);
    // A client handed to a waiting pool.connect() has no 'error' listener until the awaiting code
    // runs (a microtask later); if the same socket read carries PostgreSQL's shutdown notice
    // (57P01), the client emits 'error' in between and the process crashes. The error still
    // reaches whoever uses the client (its queries fail); this only keeps it from being fatal.
    pool.on('connect', (client) => client.on('error', () => undefined));
    this.listener = new PgListener(connectionString, (p) => this.publisher.unwrap(p));
    this.lost = new LostAnswer(pool, () => this.closed);
  }

  static async open(connectionString: string, poolSize = 10): Promise<PostgresDb> {
    const pool = new pg.Pool({
      connectionString,
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    return new PostgresDb(pool, connectionString);
  }

  async query<T>(
    sql: string,
    params: readonly unknown[] = [],
    opts: QueryOptions = {},
  ): Promise<QueryResult<T>> {
    try {
      const r = await this.pool.query(queryConfig(sql, params, opts.name));
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    } catch (err) {
      return wrap(err);
    }
  }

  async atomic<T>(sql: string, params: readonly unknown[], opts: AtomicOptions<T>): Promise<QueryResult<T>> {
    const held = await checkout(this.pool);
    // The server process running the statement: once it is gone, the statement's outcome is final.
    const backend = (held.client as unknown as { processID: number | null }).processID;
    try {
      const r = await held.client.query(queryConfig(sql, params, opts.name));
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      held.broken = true;
      if (backend === null || !(await this.lost.backendGone(backend))) {
        throw new AppError(
          'store_unavailable',
          'The database went away while storing; whether it was stored is unknown. Retry with the same Idempotency-Key.',
          { cause: err },
        );
      }
      let settled: QueryResult<T>;
      try {
        settled = await opts.settle(this);
      } catch (e) {
        return wrap(e);
      }
      if (settled.rows.length > 0) return settled;
      return wrap(err);
    } finally {
      held.release();
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.pool.query(sql);
    } catch (err) {
      wrap(err);
    }
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const held = await checkout(this.pool);
    const { client } = held;
    let xid: string | null = null;
    let committing = false;
    let out: T | undefined;
    const published: [string, string, PublishOptions | undefined][] = [];
    try {
      // One round trip opens the transaction, scopes it to the tenant and, for a writing
      // transaction, takes its id now (it would be assigned at the first write anyway) so a COMMIT
      // whose answer is lost can be looked up afterwards.
      const begin = [
        opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN',
        ...(opts.tenantId ? [tenantPreamble(opts.tenantId)] : []),
      ];
      if (!opts.readOnly) begin.push('SELECT pg_current_xact_id()::text AS x');
      const opened = await client.query(begin.join('; '));
      if (!opts.readOnly) {
        const results = (Array.isArray(opened) ? opened : [opened]) as { rows: { x?: string }[] }[];
        xid = results[results.length - 1]?.rows[0]?.x ?? null;
      }
      const q: Queryable = {
        publish: (channel: string, payload: string, po?: PublishOptions) => {
          published.push([channel, payload, po]);
        },
        query: async <R>(sql: string, params: readonly unknown[] = [], qo: QueryOptions = {}) => {
          const r = await client.query(queryConfig(sql, params, qo.name));
          return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
        },
        exec: async (sql: string) => {
          await client.query(sql);
        },
      };
      out = await fn(q);
      committing = true;
      await client.query('COMMIT');
      for (const [c, p, po] of published) this.publish(c, p, po);
      return out;
    } catch (err) {
      held.broken = isUnavailable(err);
      if (committing && held.broken && xid) {
        // The connection broke during COMMIT: it may have committed. Ask the server once it is back
        // (txid_status) instead of answering "nothing was accepted" when that may be false.
        held.release();
        const outcome = await this.lost.commitOutcome(xid);
        if (outcome === 'committed') {
          for (const [c, p, po] of published) this.publish(c, p, po);
          return out!;
        }
        if (outcome === 'unknown') {
          throw new AppError(
            'store_unavailable',
            'The database went away while committing; whether it was stored is unknown. Retry with the same Idempotency-Key.',
            { cause: err },
          );
        }
        return wrap(err);
      }
      await client.query('ROLLBACK').catch(() => {
        held.broken = true;
      });
      return wrap(err);
    } finally {
      held.release();
    }
  }

  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    return this.listener.listen(channel, handler);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener.close();
    await this.pool.end().catch(() => undefined);
  }
}
