import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { registerDevice } from '../../src/lan/devices.ts';
import { appendToInboxes, pruneInboxes, recordAcks } from '../../src/lan/inbox.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import type { Db } from '../../src/store/driver.ts';

async function row(
  db: Db,
  target: string,
  opts: { status?: string; lease?: string; createdAt?: Date } = {},
): Promise<{ id: string; createdAt: Date }> {
  const id = randomUUID();
  const createdAt = opts.createdAt ?? new Date();
  await db.query(
    `INSERT INTO outbox (id, tenant_id, channel, adapter, target, source, status, request_hash, max_attempts, lease_owner, created_at)
     VALUES ($1, 't1', 'in_app', 'lan_hub', $2, 'test', $3, 'h', 3, $4, $5)`,
    [id, target, opts.status ?? 'sending', opts.lease ?? null, createdAt],
  );
  return { id, createdAt };
}

const item = (ord: number, r: { id: string; createdAt: Date }, target: string) => ({
  ord,
  outboxId: r.id,
  tenantId: 't1',
  target,
  createdAt: r.createdAt,
});

async function seqs(db: Db, device: string): Promise<{ seq: number; outbox_id: string }[]> {
  const r = await db.query<{ seq: number; outbox_id: string }>(
    `SELECT seq, outbox_id::text AS outbox_id FROM lan_inbox WHERE tenant_id = 't1' AND device_id = $1 ORDER BY seq`,
    [device],
  );
  return r.rows.map((x) => ({ seq: Number(x.seq), outbox_id: x.outbox_id }));
}

for (const kind of await drivers()) {
  describe(`inbox writer: seq allocation [${kind}]`, () => {
    let tdb: TestDb;
    beforeAll(async () => {
      tdb = await createTestDb(kind);
      await tdb.db.tx((q) =>
        createTenant(
          q,
          { id: 't1', name: 'T1', country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' },
          'test',
        ),
      );
      for (const [id, role] of [
        ['k1', 'kitchen'],
        ['k2', 'kitchen'],
        ['p1', 'pos'],
      ] as const) {
        await tdb.db.tx((q) => registerDevice(q, { tenantId: 't1', id, role, name: id, actor: 'test' }));
      }
    });
    afterAll(() => tdb.cleanup());

    it('a row written twice lands once; role and device targets share one counter per device', async () => {
      const a = await row(tdb.db, 'role:kitchen');
      const first = await appendToInboxes(tdb.db, 'hub-a', [item(0, a, 'role:kitchen')]);
      expect(first.devicesByOrd.get(0)!.sort()).toEqual(['k1', 'k2']);
      expect(first.entries.map((e) => [e.deviceId, e.seq])).toEqual([
        ['k1', 1],
        ['k2', 1],
      ]);
      const again = await appendToInboxes(tdb.db, 'hub-a', [item(0, a, 'role:kitchen')]);
      expect(again.devicesByOrd.get(0)!.sort()).toEqual(['k1', 'k2']);
      expect(again.entries).toEqual([]);
      const b = await row(tdb.db, 'k1');
      const second = await appendToInboxes(tdb.db, 'hub-a', [item(0, b, 'k1')]);
      expect(second.entries.map((e) => [e.deviceId, e.seq])).toEqual([['k1', 2]]);
      const none = await appendToInboxes(tdb.db, 'hub-a', [
        item(0, await row(tdb.db, 'role:printer'), 'role:printer'),
      ]);
      expect(none.devicesByOrd.get(0)).toBeUndefined();
    });

    it('an older row this dispatcher claimed but has not handed over is written first (batches that reach the hub out of order keep enqueue order)', async () => {
      const t = Date.now();
      const older = await row(tdb.db, 'p1', { lease: 'worker-1', createdAt: new Date(t - 50) });
      const newer = await row(tdb.db, 'p1', { lease: 'worker-1', createdAt: new Date(t) });
      // Another dispatcher's in-flight row is not touched.
      const foreign = await row(tdb.db, 'p1', { lease: 'worker-2', createdAt: new Date(t - 100) });
      const w = await appendToInboxes(tdb.db, 'hub-a', [item(0, newer, 'p1')], 'worker-1');
      expect(w.devicesByOrd.get(0)).toEqual(['p1']);
      expect((await seqs(tdb.db, 'p1')).map((x) => x.outbox_id)).toEqual([older.id, newer.id]);
      const late = await appendToInboxes(tdb.db, 'hub-a', [item(0, older, 'p1')], 'worker-1');
      expect(late.devicesByOrd.get(0)).toEqual(['p1']);
      expect(late.entries).toEqual([]);
      await appendToInboxes(tdb.db, 'hub-b', [item(0, foreign, 'p1')], 'worker-2');
      expect(await seqs(tdb.db, 'p1')).toEqual([
        { seq: 1, outbox_id: older.id },
        { seq: 2, outbox_id: newer.id },
        { seq: 3, outbox_id: foreign.id },
      ]);
    });

    it.runIf(kind === 'postgres')(
      'writers on separate connections never hand out a seq twice or skip one',
      async () => {
        const pools = await Promise.all([0, 1, 2, 3].map(() => PostgresDb.open(tdb.url!, 2)));
        try {
          const rows = await Promise.all(Array.from({ length: 80 }, () => row(tdb.db, 'role:kitchen')));
          // 80 rows, 4 processes, each row written by two of them at once (a lease that expired mid-write).
          const results = await Promise.allSettled(
            rows.flatMap((r, i) => [
              appendToInboxes(pools[i % 4]!, `hub-${i % 4}`, [item(0, r, 'role:kitchen')]),
              appendToInboxes(pools[(i + 1) % 4]!, `hub-${(i + 1) % 4}`, [item(0, r, 'role:kitchen')]),
            ]),
          );
          // A loser of a same-row race fails whole (the lane retries it); retry those here.
          for (const [i, res] of results.entries()) {
            if (res.status === 'rejected')
              await appendToInboxes(tdb.db, 'retry', [item(0, rows[Math.floor(i / 2)]!, 'role:kitchen')]);
          }
          for (const device of ['k1', 'k2']) {
            const got = await seqs(tdb.db, device);
            expect(got.map((x) => x.seq)).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
            const ids = got.map((x) => x.outbox_id);
            expect(new Set(ids).size).toBe(ids.length);
            for (const r of rows) expect(ids).toContain(r.id);
          }
        } finally {
          await Promise.all(pools.map((p) => p.close()));
        }
      },
    );

    it('pruning deletes only entries past the retention that their device acked or that were dropped', async () => {
      // Devices of a role of their own (printers), named afresh on each try (the retry re-runs this).
      const [w1, w2] = [`pr-${randomUUID().slice(0, 8)}`, `pr-${randomUUID().slice(0, 8)}`];
      await tdb.db.query(
        `UPDATE lan_devices SET revoked_at = now() WHERE tenant_id = 't1' AND role = 'printer'`,
      );
      for (const id of [w1, w2])
        await tdb.db.tx((q) =>
          registerDevice(q, { tenantId: 't1', id, role: 'printer', name: id, actor: 'test' }),
        );
      const rows = [];
      for (let i = 0; i < 4; i++) rows.push(await row(tdb.db, 'role:printer'));
      for (const [i, r] of rows.entries())
        await appendToInboxes(tdb.db, 'hub-a', [item(i, r, 'role:printer')]);
      // w1 acked seqs 1..3 of 4; w2 acked nothing, and its seq 1 was dropped (as at a revocation).
      await recordAcks(tdb.db, [{ tenantId: 't1', deviceId: w1, from: 0, to: 3 }]);
      await tdb.db.query(
        `UPDATE lan_inbox SET dropped_at = now() WHERE tenant_id = 't1' AND device_id = $1 AND seq = 1`,
        [w2],
      );
      // Seqs 1..3 of both devices are four days old; seq 4 is fresh.
      await tdb.db.query(
        `UPDATE lan_inbox SET created_at = now() - interval '96 hours' WHERE tenant_id = 't1' AND device_id IN ($1, $2) AND seq <= 3`,
        [w1, w2],
      );
      expect(await pruneInboxes(tdb.db, 72)).toBe(4);
      expect((await seqs(tdb.db, w1)).map((e) => e.seq)).toEqual([4]);
      expect((await seqs(tdb.db, w2)).map((e) => e.seq)).toEqual([2, 3, 4]);
      // Nothing left to prune; a longer retention keeps everything.
      expect(await pruneInboxes(tdb.db, 72)).toBe(0);
      await tdb.db.query(
        `UPDATE lan_inbox SET created_at = now() - interval '96 hours' WHERE tenant_id = 't1' AND device_id = $1`,
        [w1],
      );
      expect(await pruneInboxes(tdb.db, 100)).toBe(0);
      // The batch limit holds.
      await recordAcks(tdb.db, [{ tenantId: 't1', deviceId: w2, from: 0, to: 4 }]);
      await tdb.db.query(
        `UPDATE lan_inbox SET created_at = now() - interval '96 hours' WHERE tenant_id = 't1' AND device_id = $1`,
        [w2],
      );
      expect(await pruneInboxes(tdb.db, 72, 2)).toBe(2);
      expect(await pruneInboxes(tdb.db, 72)).toBe(1);
      expect(await seqs(tdb.db, w2)).toEqual([]);
    });
  });
}
