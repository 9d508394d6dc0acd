import type { Env } from '../config/schema.ts';
import type { Queryable } from '../store/driver.ts';
import { countAndRecord, lockLimitKeys } from '../store/sql/otp-limits.ts';

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
export function startRules(
  env: Env,
  k: { phone: string; ip: string; tenant: string; dialCode: string },
): LimitRule[] {
  const phone = `phone:${k.phone}`;
  return [
    { name: 'resend_interval', key: phone, windowS: env.OTP_RESEND_INTERVAL_S, limit: 1 },
    { name: 'phone_10m', key: phone, windowS: 600, limit: env.OTP_MAX_STARTS_PER_PHONE_10M },
    { name: 'phone_day', key: phone, windowS: DAY_S, limit: env.OTP_MAX_STARTS_PER_PHONE_DAY },
    { name: 'ip_hour', key: `ip:${k.ip}`, windowS: 3_600, limit: env.OTP_MAX_STARTS_PER_IP_HOUR },
    {
      name: 'tenant_day',
      key: `tenant:${k.tenant}`,
      windowS: DAY_S,
      limit: env.OTP_MAX_STARTS_PER_TENANT_DAY,
    },
    {
      name: 'dial_code_day',
      key: `dial:${k.dialCode}`,
      windowS: DAY_S,
      limit: env.OTP_MAX_STARTS_PER_DIAL_CODE_DAY,
    },
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
export async function consumeStart(
  q: Queryable,
  rules: readonly LimitRule[],
  nowMs: number,
): Promise<LimitVerdict> {
  const now = new Date(nowMs);
  const keys = [...new Set(rules.map((r) => r.key))].sort();
  // Locks first, count second: the count's snapshot then sees what the previous holder committed.
  await lockLimitKeys(q, keys, LOCK_SEED);
  const full = await countAndRecord(q, {
    probes: rules,
    keys,
    at: now,
    keepS: DAY_S + 60,
    pruneBatch: PRUNE_BATCH,
  });
  let worst: { rule: string; retryAfterS: number } | null = null;
  for (const f of full) {
    const freeAt = f.blocking.getTime() + f.windowS * 1000;
    const retryAfterS = Math.max(1, Math.ceil((freeAt - nowMs) / 1000));
    if (!worst || retryAfterS > worst.retryAfterS) worst = { rule: f.name, retryAfterS };
  }
  return worst ? { ok: false, ...worst } : { ok: true };
}
