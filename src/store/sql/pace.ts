import type { Queryable } from '../driver.ts';

export interface PaceGrant {
  /** Sends this dispatcher may start now. */
  granted: number;
  /** When `granted` is 0: milliseconds until the next token. */
  waitMs: number;
}

/**
 * Takes up to `want` tokens from the adapter's shared bucket (`rate` per second, at most `burst`
 * stored). The bucket row is locked for the one statement, so concurrent dispatchers take turns
 * and never hand out the same token twice; the clock is the database's, shared by all of them.
 */
export async function takeTokens(
  q: Queryable,
  adapter: string,
  want: number,
  rate: number,
  burst: number,
): Promise<PaceGrant> {
  const r = await q.query<{ granted: number; avail: number }>(
    `WITH ensure AS (
       INSERT INTO dispatch_pace (adapter, tokens) VALUES ($1, $3::float8) ON CONFLICT (adapter) DO NOTHING
     ), cur AS (
       SELECT least($3::float8, tokens + extract(epoch FROM clock_timestamp() - updated_at) * $2::float8) AS avail
       FROM dispatch_pace WHERE adapter = $1 FOR UPDATE
     ), g AS (
       SELECT avail, greatest(0, least($4::int, floor(avail)::int)) AS granted FROM cur
     ), upd AS (
       UPDATE dispatch_pace p SET tokens = g.avail - g.granted, updated_at = clock_timestamp()
       FROM g WHERE p.adapter = $1
       RETURNING g.granted, g.avail
     )
     SELECT granted, avail FROM upd`,
    [adapter, rate, burst, want],
  );
  const row = r.rows[0];
  // First use: the INSERT and the SELECT share a snapshot, so the new row is visible next time.
  if (!row) return { granted: 0, waitMs: 0 };
  const granted = Number(row.granted);
  if (granted > 0) return { granted, waitMs: 0 };
  return { granted: 0, waitMs: Math.max(1, Math.ceil(((1 - Number(row.avail)) / rate) * 1000)) };
}

/** Gives back tokens taken but not used (fewer rows were due than granted). */
export async function returnTokens(q: Queryable, adapter: string, n: number, burst: number): Promise<void> {
  if (n <= 0) return;
  await q.query(
    `UPDATE dispatch_pace SET tokens = least($3::float8, tokens + $2::float8) WHERE adapter = $1`,
    [adapter, n, burst],
  );
}

/**
 * A provider answered "rate limited, wait N ms": every dispatcher of this adapter waits, not only
 * the one that was told. The bucket is set to -(rate x wait), so no token is due before then; several
 * rate-limit answers for the same moment do not add up.
 */
export async function holdOff(q: Queryable, adapter: string, waitMs: number, rate: number): Promise<void> {
  await q.query(
    `UPDATE dispatch_pace SET
       tokens = least(tokens + extract(epoch FROM clock_timestamp() - updated_at) * $2::float8, -$3::float8 / 1000 * $2::float8),
       updated_at = clock_timestamp()
     WHERE adapter = $1`,
    [adapter, rate, waitMs],
  );
}

/**
 * A provider answered "rate limited" about one recipient: every dispatcher's claim leaves that
 * recipient's rows of the adapter alone for `waitMs` (a longer hold already set stands). Expired
 * holds are cleared on the way, so the table keeps only live ones.
 */
export async function holdRecipient(
  q: Queryable,
  adapter: string,
  target: string,
  waitMs: number,
): Promise<void> {
  await q.query(
    `WITH expired AS (
       DELETE FROM recipient_holds
       WHERE hold_until <= clock_timestamp() AND NOT (adapter = $1 AND target = $2)
     )
     INSERT INTO recipient_holds (adapter, target, hold_until)
     VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::float8 / 1000))
     ON CONFLICT (adapter, target) DO UPDATE
       SET hold_until = greatest(recipient_holds.hold_until, EXCLUDED.hold_until)`,
    [adapter, target, waitMs],
  );
}
