/**
 * The small driver interface both stores implement: embedded PGlite and PostgreSQL (pg).
 * The same SQL runs on both.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Name under which PostgreSQL keeps the statement prepared on each connection (parsed and planned
   * once, not per call). Only for hot statements with a fixed text; PGlite ignores it.
   */
  name?: string;
}

export interface PublishOptions {
  lazy?: boolean;
}

export interface Queryable {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    opts?: QueryOptions,
  ): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Announces a change on a LISTEN channel once the work is committed: inside a transaction it
   * waits for COMMIT (and is dropped on rollback); outside one it goes at once. Never NOTIFY in SQL
   * on hot paths: it serialises commits (see store/publisher.ts). `lazy`: nobody waits on it (a
   * status change for the owner panel, no wake-up): it may wait a few ms to share a NOTIFY.
   */
  publish(channel: string, payload: string, opts?: PublishOptions): void;
}

export interface TxOptions {
  /**
   * Tenant the transaction is scoped to: it runs as the role mupza_app with app.tenant_id set, so
   * row-level security lets it see and write only that tenant's rows.
   */
  tenantId?: string;
  /** Reads only: no transaction id is assigned and nothing is flushed at commit. */
  readOnly?: boolean;
}

export interface AtomicOptions<T> extends QueryOptions {
  settle: (q: Queryable) => Promise<QueryResult<T>>;
}

// Tenant ids are validated by the tenants table CHECK; re-checked here because the id is spliced
// into the one-round-trip transaction preamble.
const TENANT_ID_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Statements that open a tenant-scoped transaction (one round trip on PostgreSQL). */
export function tenantPreamble(tenantId: string): string {
  if (!TENANT_ID_RE.test(tenantId)) throw new Error('invalid tenant id for a scoped transaction');
  return `SET LOCAL ROLE mupza_app; SELECT set_config('app.tenant_id', '${tenantId}', true)`;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** PGlite never fsyncs: rows survive a killed process, not a power cut. */
  readonly durable: boolean;
  tx<T>(fn: (q: Queryable) => Promise<T>, opts?: TxOptions): Promise<T>;
  /**
   * One statement in its own (implicit) transaction: a whole write in one round trip. If the
   * connection breaks before the answer, the statement may or may not have committed: once it can
   * no longer commit, `settle` asks the store (e.g. by the row's id) and its answer is returned;
   * `settle` answering no rows means nothing was stored (store_unavailable).
   */
  atomic<T>(sql: string, params: readonly unknown[], opts: AtomicOptions<T>): Promise<QueryResult<T>>;
  /** Subscribe to NOTIFY on a channel; returns an unsubscribe function. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * PGlite answers on the main thread through promise jobs alone, so a loop that always finds work
 * would never let the event loop reach its sockets: the API would stall for a whole drain. Loops
 * over the store call this once per round; on PostgreSQL it costs nothing.
 */
export function yieldIfEmbedded(db: Pick<Db, 'kind'>): Promise<void> | undefined {
  return db.kind === 'pglite' ? new Promise<void>((r) => setImmediate(r)) : undefined;
}
