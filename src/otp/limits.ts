import type { Env } from '../config/schema.ts';
import type { Queryable } from '../store/driver.ts';

/** One fraud limit: at most `limit` accepted starts for `key` within `windowS` seconds. */
export interface LimitRule {
  name: string;
  key: string;
  windowS: number;
  limit: number;
}

export type LimitVerdict = { ok: true } | { ok: false; rule: string; retryAfterS: number };

const DAY_S = 86_400;
// Rate events older than the longest window are pruned a few at a time on each start.
const PRUNE_BATCH = 200;
// Any constant; it only keeps these advisory locks apart from other users of hashtextextended.
const LOCK_SEED = 727_005;

/** The limits of one start, with the defaults of the issue (3/10 min, 10/day, 30 s, 10/h, 200/day). */
export function startRules(env: Env, k: { phone: string; ip: string; tenant: string; dialCode: string }): LimitRule[] {
  const phone = `phone:${k.phone}`;
  return [
    { name: 'resend_interval', key: phone, windowS: env.OTP_RESEND_INTERVAL_S, limit: 1 },
    { name: 'phone_10m', key: phone, windowS: 600, limit: env.OTP_MAX_STARTS_PER_PHONE_10M },
    { name: 'phone_day', key: phone, windowS: DAY_S, limit: env.OTP_MAX_STARTS_PER_PHONE_DAY },
    { name: 'ip_hour', key: `ip:${k.ip}`, windowS: 3_600, limit: env.OTP_MAX_STARTS_PER_IP_HOUR },
    { name: 'tenant_day', key: `tenant:${k.tenant}`, windowS: DAY_S, limit: env.OTP_MAX_STARTS_PER_TENANT_DAY },
    { name: 'dial_code_day', key: `dial:${k.dialCode}`, windowS: DAY_S, limit: env.OTP_MAX_STARTS_PER_DIAL_CODE_DAY },
  ].filter((r) => r.windowS > 0);
}

/**
 * Checks every rule and, when all pass, records the start under each key — inside the caller's
 * transaction (whose commit it makes asynchronous), which then holds an advisory lock per key until it commits (taken in sorted order, so two starts never deadlock), so
 * concurrent starts in any number of processes cannot both take the last slot. Only accepted
 * starts are recorded: a refused flood does not keep the owner's own phone locked out.
 *
 * For each rule the blocking event is the `limit`-th newest inside the window; the start may go
 * again once it leaves the window, which is the Retry-After.
 */
export async function consumeStart(q: Queryable, rules: readonly LimitRule[], nowMs: number): Promise<LimitVerdict> {
  const now = new Date(nowMs);
  const keys = [...new Set(rules.map((r) => r.key))].sort();
  // One statement takes every lock, in key order; the count runs in the next statement, whose
  // snapshot (READ COMMITTED) then includes whatever the previous holder committed. The locks are
  // held until the commit, so the same statement makes that commit asynchronous (no wait for the WAL
  // flush; SET LOCAL without its own round trip): a crash may forget the last fraction of a second
  // of counted starts, no more.
  await q.query(
    `SELECT set_config('synchronous_commit', 'off', true), count(pg_advisory_xact_lock(hashtextextended(k, $2)))
     FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) s`,
    [keys, LOCK_SEED],
  );
  const r = await q.query<{ name: string | null; window_s: number | null; blocking: Date | string | null }>(
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
    [JSON.stringify(rules.map((x) => ({ name: x.name, key: x.key, window_s: x.windowS, lim: x.limit }))), now, keys, DAY_S + 60, PRUNE_BATCH],
  );
  let worst: { rule: string; retryAfterS: number } | null = null;
  for (const row of r.rows) {
    const freeAt = new Date(row.blocking!).getTime() + Number(row.window_s) * 1000;
    const retryAfterS = Math.max(1, Math.ceil((freeAt - nowMs) / 1000));
    if (!worst || retryAfterS > worst.retryAfterS) worst = { rule: row.name!, retryAfterS };
  }
  return worst ? { ok: false, ...worst } : { ok: true };
}
