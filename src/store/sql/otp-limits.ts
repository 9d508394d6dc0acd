import type { Queryable } from '../driver.ts';

/** One limit as the count sees it: at most `limit` events for `key` within `windowS` seconds. */
export interface LimitProbe {
  name: string;
  key: string;
  windowS: number;
  limit: number;
}

/** A limit that is full: the event whose leaving the window frees it. */
export interface BlockingEvent {
  name: string;
  windowS: number;
  blocking: Date;
}

/**
 * One statement takes every lock, in key order; the count runs in the next statement, whose
 * snapshot (READ COMMITTED) then includes whatever the previous holder committed. The locks are
 * held until the commit, so the same statement makes that commit asynchronous (no wait for the WAL
 * flush; SET LOCAL without its own round trip): a crash may forget the last fraction of a second
 * of counted starts, no more. `keys` must be sorted, so two callers never deadlock.
 */
export async function lockLimitKeys(q: Queryable, keys: readonly string[], seed: number): Promise<void> {
  await q.query(
    `SELECT set_config('synchronous_commit', 'off', true), count(pg_advisory_xact_lock(hashtextextended(k, $2)))
     FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) s`,
    [keys, seed],
  );
}

/**
 * The full limits among `probes` at `at`; when none is full, one event per key in `keys` is recorded.
 * Either way up to `pruneBatch` events older than `keepS` are deleted.
 */
export async function countAndRecord(
  q: Queryable,
  p: { probes: readonly LimitProbe[]; keys: readonly string[]; at: Date; keepS: number; pruneBatch: number },
): Promise<BlockingEvent[]> {
  const r = await q.query<{ name: string; window_s: number; blocking: Date | string }>(
    `WITH r AS (
       SELECT r.name, r.window_s,
         (SELECT e.created_at FROM otp_rate_events e
          WHERE e.key = r.key AND e.created_at > $2::timestamptz - make_interval(secs => r.window_s)
          ORDER BY e.created_at DESC OFFSET r.lim - 1 LIMIT 1) AS blocking
       FROM jsonb_to_recordset($1::jsonb) AS r(name text, key text, window_s int, lim int)
     ), ins AS (
       INSERT INTO otp_rate_events (key, created_at)
       SELECT k, $2 FROM unnest($3::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM r WHERE blocking IS NOT NULL)
     ), pruned AS (
       DELETE FROM otp_rate_events WHERE id IN (
         SELECT id FROM otp_rate_events WHERE created_at < $2::timestamptz - make_interval(secs => $4) ORDER BY created_at LIMIT $5)
     )
     SELECT name, window_s, blocking FROM r WHERE blocking IS NOT NULL`,
    [
      JSON.stringify(p.probes.map((x) => ({ name: x.name, key: x.key, window_s: x.windowS, lim: x.limit }))),
      p.at,
      p.keys,
      p.keepS,
      p.pruneBatch,
    ],
  );
  return r.rows.map((row) => ({
    name: row.name,
    windowS: Number(row.window_s),
    blocking: new Date(row.blocking),
  }));
}
