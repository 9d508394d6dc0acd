import type { AtomicOptions, Db, Queryable, QueryOptions, QueryResult, TxOptions } from '../store/driver.ts';

/**
 * The database as the OTP service sees it: at most `slots` statements or transactions at a time.
 * A flood of sign-in requests then waits here, in memory, instead of taking every pooled
 * connection (or PGlite's one connection) away from the LAN work that shares the database.
 */
export type SlottedDb = Db & {
  /** Several transactions under one slot: a request that got in finishes before the next begins. */
  holding<T>(fn: (raw: Db) => Promise<T>): Promise<T>;
};

export function withSlots(db: Db, slots: number): SlottedDb {
  let busy = 0;
  const waiting: (() => void)[] = [];
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (busy >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
    else busy++;
    try {
      // Yield to the event loop first: an embedded PGlite answers through microtasks only, so a
      // run of OTP transactions would otherwise starve timers, sockets and every other request.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await fn();
    } finally {
      // The slot passes straight to the next waiter (busy stays the same), or is freed.
      const next = waiting.shift();
      if (next) next();
      else busy--;
    }
  };
  return {
    kind: db.kind,
    durable: db.durable,
    query: <T>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<T>> =>
      run(() => db.query<T>(sql, params, opts)),
    atomic: <T>(sql: string, params: readonly unknown[], opts: AtomicOptions<T>) =>
      run(() => db.atomic<T>(sql, params, opts)),
    exec: (sql: string) => run(() => db.exec(sql)),
    tx: <T>(fn: (q: Queryable) => Promise<T>, opts?: TxOptions) => run(() => db.tx(fn, opts)),
    listen: (channel, handler) => db.listen(channel, handler),
    notify: (channel, payload) => db.notify(channel, payload),
    publish: (channel, payload) => db.publish(channel, payload),
    ping: () => db.ping(),
    close: () => db.close(),
    holding: <T>(fn: (raw: Db) => Promise<T>) => run(() => fn(db)),
  };
}
