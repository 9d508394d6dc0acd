import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { claimDue } from '../../src/store/sql/claim.ts';
import { insertDueRows, makeTenants } from './rows.ts';

for (const kind of await drivers()) {
  describe(`claim fairness across tenants [${kind}]`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
      await makeTenants(t.db, ['flood', 'quiet', 'third']);
    });
    afterAll(async () => t.cleanup());

    it('a tenant whose rows arrive behind a 5,000-row flood is served in the next claim', async () => {
      // The flood is older than the quiet tenant's rows: plain FIFO would serve all 5,000 first.
      await insertDueRows(t.db, { tenant: 'flood', n: 5_000, ageMs: 60_000 });
      await insertDueRows(t.db, { tenant: 'quiet', n: 5, ageMs: 1_000 });
      await insertDueRows(t.db, { tenant: 'third', n: 2, ageMs: 500 });
      const first = await claimDue(t.db, { adapter: 'lan_hub', limit: 10, worker: 'w1', leaseMs: 30_000 });
      const by = (rows: { tenant_id: string }[]) =>
        rows.reduce<Record<string, number>>((m, r) => ((m[r.tenant_id] = (m[r.tenant_id] ?? 0) + 1), m), {});
      // Round-robin, one row per tenant per round: flood, quiet, third, flood, quiet, third, ...
      expect(by(first)).toEqual({ flood: 4, quiet: 4, third: 2 });
      // Within a tenant the oldest row goes first.
      const floodClaimed = first.filter((r) => r.tenant_id === 'flood').map((r) => r.id);
      const oldest = await t.db.query<{ id: string }>(
        `SELECT id::text FROM outbox WHERE tenant_id = 'flood' ORDER BY next_attempt_at LIMIT 4`,
      );
      expect(floodClaimed.sort()).toEqual(oldest.rows.map((r) => r.id).sort());
      // Once the small tenants are drained, the flood gets the rest of the batch.
      const second = await claimDue(t.db, { adapter: 'lan_hub', limit: 10, worker: 'w1', leaseMs: 30_000 });
      expect(by(second)).toEqual({ flood: 9, quiet: 1 });
    });

    it('one free slot goes to the tenant with nothing in flight, even behind an older flood', async () => {
      // The flood holds rows in flight (claimed above, still sending); quiet has none now.
      await insertDueRows(t.db, { tenant: 'quiet', n: 1, ageMs: 100 });
      const one = await claimDue(t.db, { adapter: 'lan_hub', limit: 1, worker: 'w1', leaseMs: 30_000 });
      expect(one.map((r) => r.tenant_id)).toEqual(['quiet']);
    });

    it('a due row of another lane is never claimed, and a row not yet due waits', async () => {
      await insertDueRows(t.db, { tenant: 'quiet', n: 3, adapter: 'smtp', channel: 'email' });
      await t.db
        .query(`INSERT INTO outbox (id, tenant_id, channel, adapter, target, body, source, status, request_hash, send_at, next_attempt_at, max_attempts)
        VALUES (gen_random_uuid(), 'third', 'in_app', 'lan_hub', 'role:pos', 'later', 'scale_test', 'ready', 'x', now() + interval '1 hour', now() + interval '1 hour', 8)`);
      const rows = await claimDue(t.db, { adapter: 'lan_hub', limit: 10_000, worker: 'w2', leaseMs: 30_000 });
      expect(rows.every((r) => r.adapter === 'lan_hub' && r.body !== 'later')).toBe(true);
      expect(rows).toHaveLength(5_000 - 13);
    });
  });
}
