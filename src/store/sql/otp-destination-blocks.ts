import type { Queryable } from '../driver.ts';

/** One remembered provider refusal to look for: its code, its otp_rate_events key and how long it holds. */
export interface BlockProbe {
  code: number;
  key: string;
  windowS: number;
}

/** Records a range refusal as a rate event (pruned with the others after a day). */
export async function insertBlockEvent(q: Queryable, key: string, at: Date): Promise<void> {
  await q.query('INSERT INTO otp_rate_events (key, created_at) VALUES ($1, $2)', [key, at]);
}

/** The lowest code among `probes` with an event inside its window at `at`, or null. */
export async function firstBlockedCode(
  q: Queryable,
  probes: readonly BlockProbe[],
  at: Date,
): Promise<number | null> {
  const r = await q.query<{ code: number }>(
    `SELECT r.code FROM jsonb_to_recordset($1::jsonb) AS r(code int, key text, window_s int)
     WHERE EXISTS (SELECT 1 FROM otp_rate_events e
                   WHERE e.key = r.key AND e.created_at > $2::timestamptz - make_interval(secs => r.window_s))
     ORDER BY r.code LIMIT 1`,
    [JSON.stringify(probes.map((p) => ({ code: p.code, key: p.key, window_s: p.windowS }))), at],
  );
  return r.rows[0] ? Number(r.rows[0].code) : null;
}
