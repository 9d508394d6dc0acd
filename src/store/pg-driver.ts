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
import { Backoff } from '../core/backoff.ts';
import { AppError } from '../core/errors.ts';

// int8 (counts, audit ids) as JS numbers: they stay far below 2^53 here, and PGlite does the same.
pg.types.setTypeParser(20, (v) => Number(v));

// How long a transaction whose COMMIT answer was lost waits for the server to come back and say
// whether it committed (a PostgreSQL restart takes about a second; the request waits meanwhile).
const COMMIT_RESOLVE_MS = 10_000;

/** Connection-level failures map to store_unavailable so the API answers 503, never a raw error. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
  '08003',
  '08004',
]);

export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    e.message ?? '',
  );
}

/** A query for node-postgres, prepared under `name` on each connection when one is given. */
function queryConfig(text: string, values: readonly unknown[], name?: string): pg.QueryConfig {
  return { text, values: values as unknown[], ...(name ? { name } : {}) };
}

/** A pooled client held for one unit of work; `broken` sends it away instead of back to the pool. */
interface HeldClient {
  client: pg.PoolClient;
  broken: boolean;
  /** Idempotent. */
  release(): void;
}

function wrap(err: unknown): never {
  if (isUnavailable(err)) {
    throw new AppError('store_unavailable', 'The database is not reachable; nothing was accepted.', {
      cause: err,
    });
  }
  throw err;
}

export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly durable = true;
  private listener: pg.Client | null = null;
  /** Waits between attempts to get the LISTEN connection back (wake-ups poll meanwhile). */
  private readonly listenBackoff = new Backoff({ baseMs: 500, capMs: 10_000 });
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private readonly publisher = new Publisher(
    (channel, payload) => this.deliver(channel, payload),
    async (notices) => {
      if (notices.length === 0) return;
      const sql = `SELECT ${notices.map((_, i) => `pg_notify($${i * 2 + 1}, $${i * 2 + 2})`).join(', ')}`;
      await this.pool.query(sql, notices.flat());
    },
  );

  private deliver(channel: string, payload: string): void {
    const hs = this.handlers.get(channel);
    if (hs) for (const h of [...hs]) queueMicrotask(() => h(payload));
  }

  publish(channel: string, payload: string, opts?: PublishOptions): void {
    this.publisher.publish(channel, payload, opts?.lazy === true);
  }
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
  ) {
    // An idle client that loses its server emits here; without a handler the process would crash.
    pool.on('error', () => undefined);
    // A client handed to a waiting pool.connect() has no 'error' listener until the awaiting code
    // runs (a microtask later); if the same socket read carries PostgreSQL's shutdown notice
    // (57P01), the client emits 'error' in between and the process crashes. The error still
    // reaches whoever uses the client (its queries fail); this only keeps it from being fatal.
    pool.on('connect', (client) => client.on('error', () => undefined));
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
    const held = await this.checkout();
    // The server process running the statement: once it is gone, the statement's outcome is final.
    const backend = (held.client as unknown as { processID: number | null }).processID;
    try {
      const r = await held.client.query(queryConfig(sql, params, opts.name));
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      held.broken = true;
      if (backend === null || !(await this.backendGone(backend))) {
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

  /** Waits (up to COMMIT_RESOLVE_MS) until a server process has exited: its transaction is then over. */
  private async backendGone(pid: number): Promise<boolean> {
    const gone = await this.askUntilResolved(async () => {
      const r = await this.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      return r.rowCount === 0 ? true : undefined;
    });
    return gone ?? false;
  }

  /**
   * Asks `probe` every 250 ms, for up to COMMIT_RESOLVE_MS, until it answers (not undefined). A
   * failing probe means the server is still away. Undefined if no answer came in time.
   */
  private async askUntilResolved<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
    const end = Date.now() + COMMIT_RESOLVE_MS;
    while (!this.closed) {
      try {
        const answer = await probe();
        if (answer !== undefined) return answer;
      } catch {
        // Still away; ask again.
      }
      if (Date.now() + 250 > end) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return undefined;
  }

  /** Checks out a client whose 'error' (server gone while it is held) marks it broken, not fatal. */
  private async checkout(): Promise<HeldClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      return wrap(err);
    }
    // A checked-out client whose server goes away emits 'error' with no listener from the pool:
    // without this one, a restart of PostgreSQL mid-transaction would crash the process.
    const onError = () => {
      held.broken = true;
    };
    let released = false;
    const held: HeldClient = {
      client,
      broken: false,
      release: () => {
        if (released) return;
        released = true;
        client.removeListener('error', onError);
        client.release(held.broken);
      },
    };
    client.on('error', onError);
    return held;
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.pool.query(sql);
    } catch (err) {
      wrap(err);
    }
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const held = await this.checkout();
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
        const outcome = await this.commitOutcome(xid);
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

  /** Outcome of a transaction whose COMMIT lost its answer, asked for up to COMMIT_RESOLVE_MS. */
  private async commitOutcome(xid: string): Promise<'committed' | 'aborted' | 'unknown'> {
    const outcome = await this.askUntilResolved(async () => {
      const r = await this.pool.query<{ s: string | null }>('SELECT txid_status($1::bigint) AS s', [xid]);
      const s = r.rows[0]?.s;
      if (s === 'committed' || s === 'aborted') return s;
      return s === 'in progress' ? undefined : 'unknown';
    });
    return outcome ?? 'unknown';
  }

  private async ensureListener(): Promise<pg.Client> {
    if (this.listener) return this.listener;
    const c = new pg.Client({ connectionString: this.connectionString });
    c.on('error', () => {
      // The listener reconnects lazily; wake-ups fall back to polling meanwhile.
      this.listener = null;
      if (!this.closed) setTimeout(() => void this.relisten(), this.listenBackoff.next()).unref();
    });
    c.on('notification', (msg) => {
      const hs = this.handlers.get(msg.channel);
      if (!hs) return;
      for (const payload of this.publisher.unwrap(msg.payload ?? '')) for (const h of hs) h(payload);
    });
    await c.connect();
    this.listener = c;
    return c;
  }

  private async relisten(): Promise<void> {
    if (this.closed || this.listener) return;
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
    const l = this.listener;
    this.listener = null;
    if (l) await l.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
