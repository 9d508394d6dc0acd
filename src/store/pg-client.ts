import type pg from 'pg';
import { wrapUnavailable } from './pg-errors.ts';

/** A query for node-postgres, prepared under `name` on each connection when one is given. */
export function queryConfig(text: string, values: readonly unknown[], name?: string): pg.QueryConfig {
  return { text, values: values as unknown[], ...(name ? { name } : {}) };
}

/** A pooled client held for one unit of work; `broken` sends it away instead of back to the pool. */
export interface HeldClient {
  client: pg.PoolClient;
  broken: boolean;
  /** Idempotent. */
  release(): void;
}

/** Checks out a client whose 'error' (server gone while it is held) marks it broken, not fatal. */
export async function checkout(pool: pg.Pool): Promise<HeldClient> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    return wrapUnavailable(err);
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
