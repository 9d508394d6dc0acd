import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../src/store/driver.ts';
import { waitFor } from './runtime.ts';

/**
 * Proof that a dispatcher lane has run a claim since this call, for tests that check a row is NOT
 * picked up again. Inserts a marker row on the lane (plain SQL, so no NOTIFY: the dispatcher's due
 * poll finds it) that is already past its expiry, and waits until a dispatcher has claimed it and
 * recorded it `expired` (expiry is checked before the gate and the adapter: no provider call).
 *
 * A claim takes each tenant's due rows oldest first, so any row of `tenant` on this lane that was
 * claimable before this call was claimed (its attempts went up) in that claim or an earlier one.
 * The marker is left in place, `expired`.
 */
export async function laneClaimedSince(
  db: Queryable,
  lane: { tenant: string; channel: string; adapter: string },
  ms = 10_000,
): Promise<void> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO outbox (id, tenant_id, channel, adapter, target, body, source, status, request_hash,
       send_at, next_attempt_at, expires_at, max_attempts)
     VALUES ($1::uuid, $2, $3, $4, 'lane-cycle-marker', 'marker', 'lane_cycle_marker', 'ready', md5($1::text),
       now(), now(), now() - interval '1 second', 1)`,
    [id, lane.tenant, lane.channel, lane.adapter],
  );
  await waitFor(
    async () => {
      const r = await db.query<{ status: string; claimed: number }>(
        `SELECT o.status,
                (SELECT count(*)::int FROM audit_events a
                 WHERE a.entity = 'outbox' AND a.entity_id = o.id::text AND a.action = 'claimed') AS claimed
         FROM outbox o WHERE o.id = $1`,
        [id],
      );
      const row = r.rows[0];
      return row !== undefined && row.status === 'expired' && row.claimed === 1;
    },
    ms,
    20,
  );
}
