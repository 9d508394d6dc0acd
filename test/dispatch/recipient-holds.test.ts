import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providersModule } from '../../src/providers/module.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import { anyDue, claimByIds, claimDue, dueAdapters } from '../../src/store/sql/claim.ts';
import { holdRecipient } from '../../src/store/sql/pace.ts';
import { startWhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { createTestDb, drivers, postgresAvailable, type TestDb } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, attemptsOf, enqueue, rowState, settled } from '../providers/helpers.ts';
import { insertDueRows, makeTenants } from '../scale/rows.ts';

const ADAPTER = 'whatsapp_cloud';
const CUSTOMER_A = '+994556000001';
const CUSTOMER_B = '+994556000002';
const claimOpts = { adapter: ADAPTER, worker: 'test', leaseMs: 30_000 };

for (const kind of await drivers()) {
  describe(`recipient holds in the claim [${kind}]`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
      await makeTenants(t.db, ['alpha']);
    });
    afterAll(() => t.cleanup());

    it('rows to a held recipient are not claimed by any claim path, and are claimed once the hold ends', async () => {
      await insertDueRows(t.db, { tenant: 'alpha', n: 4, adapter: ADAPTER, channel: 'whatsapp' });
      const ids = (
        await t.db.query<{ id: string }>(`SELECT id::text FROM outbox ORDER BY created_at, id`)
      ).rows.map((r) => r.id);
      const [a1, a2, b1, b2] = ids as [string, string, string, string];
      await t.db.query(`UPDATE outbox SET target = $2 WHERE id = ANY($1::uuid[])`, [[a1, a2], CUSTOMER_A]);
      await t.db.query(`UPDATE outbox SET target = $2 WHERE id = ANY($1::uuid[])`, [[b1, b2], CUSTOMER_B]);

      await holdRecipient(t.db, ADAPTER, CUSTOMER_A, 60_000);
      // A shorter hold for the same moment does not cut the longer one short.
      await holdRecipient(t.db, ADAPTER, CUSTOMER_A, 1_000);
      expect(await claimByIds(t.db, { ...claimOpts, ids: [a1, a2] })).toEqual([]);
      const first = await claimDue(t.db, { ...claimOpts, limit: 10 });
      expect(first.map((r) => r.id).sort()).toEqual([b1, b2].sort());
      // Only held rows are left: no lane is woken for them.
      expect(await anyDue(t.db, ADAPTER)).toBe(false);
      expect(await dueAdapters(t.db, [ADAPTER])).toEqual([]);
      // They kept their place: still ready, not failed, no attempt used.
      const held = await t.db.query<{ status: string; attempts: number }>(
        `SELECT status, attempts FROM outbox WHERE id = ANY($1::uuid[])`,
        [[a1, a2]],
      );
      expect(held.rows).toEqual([
        { status: 'ready', attempts: 0 },
        { status: 'ready', attempts: 0 },
      ]);

      // The hold ends.
      await t.db.query(`UPDATE recipient_holds SET hold_until = now() - interval '1 second'`);
      expect(await anyDue(t.db, ADAPTER)).toBe(true);
      expect(await dueAdapters(t.db, [ADAPTER])).toEqual([ADAPTER]);
      expect((await claimByIds(t.db, { ...claimOpts, ids: [a1] })).map((r) => r.id)).toEqual([a1]);
      expect((await claimDue(t.db, { ...claimOpts, limit: 10 })).map((r) => r.id)).toEqual([a2]);

      // The next hold written clears expired ones: the table keeps only live holds.
      await holdRecipient(t.db, ADAPTER, CUSTOMER_B, 60_000);
      const left = await t.db.query<{ target: string }>(`SELECT target FROM recipient_holds`);
      expect(left.rows).toEqual([{ target: CUSTOMER_B }]);
    });
  });
}

/**
 * Two dispatcher processes on one PostgreSQL, as two Runtime instances with their own pools. Meta's
 * pair limit (131056) answered to process 1 for customer A holds A for process 2 too: process 2
 * never calls the provider for A before the provider's wait (6 s) is over, and sends to B at once.
 */
describe.runIf(await postgresAvailable())('131056 pair limit shared through the database', () => {
  const PHONE_ID = '106540352242922';
  const PAIR_WAIT_MS = 6_000;
  const template = (n: number) => ({
    template: 'daily_owner_report',
    data: { whatsappTemplate: 'daily_report', language: 'az', params: [String(n), '1.00 ₼'] },
  });
  let base: TestDb;
  let second: PostgresDb | null = null;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await second?.close();
    await base?.cleanup();
  });

  it('a 131056 for customer A in one dispatcher keeps the other from sending to A until the hold ends, not to B', async () => {
    const fake = await startWhatsAppFake({
      accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
      phoneNumberId: PHONE_ID,
      appSecret: CANARIES.WHATSAPP_APP_SECRET!,
      limits: { pairBurst: 1, pairIntervalMs: PAIR_WAIT_MS, throughputPerSecond: 1_000 },
    });
    try {
      const env = {
        ...LIVE_ENV,
        WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
        WHATSAPP_API_VERSION: 'v23.0',
        WHATSAPP_GRAPH_BASE_URL: fake.url,
      };
      base = await createTestDb('postgres');
      const p1 = await createTestApp('postgres', { testDb: base, env, modules: [providersModule()] });
      apps.push(p1);

      // Process 2 is set up before the limit is met (and started after), so the hold is not over
      // before it can send.
      second = await PostgresDb.open(base.url!);
      const db2 = second;
      const p2 = await createTestApp('postgres', {
        testDb: { db: db2, kind: 'postgres', url: base.url, cleanup: () => db2.close() },
        env,
        modules: [providersModule()],
        start: false,
      });
      apps.push(p2);
      // Process 1: A's first message uses the pair burst, the second meets the pair limit.
      expect(
        await settled(p1, await enqueue(p1, { channel: 'whatsapp', target: CUSTOMER_A, ...template(1) })),
      ).toMatchObject({
        status: 'sent',
      });
      const refused = await enqueue(p1, { channel: 'whatsapp', target: CUSTOMER_A, ...template(2) });
      expect(await settled(p1, refused)).toMatchObject({
        status: 'failed',
        last_error_code: 'whatsapp_131056',
      });
      expect(fake.limitRefusals[131056]).toBe(1);
      const refusedAt = fake.rejections.find((r) => r.code === 131056)!.at;
      const holds = await p1.db.query<{ adapter: string; target: string }>(
        `SELECT adapter, target FROM recipient_holds`,
      );
      expect(holds.rows).toEqual([{ adapter: ADAPTER, target: CUSTOMER_A }]);
      // Process 1 goes away: only the database remembers the limit.
      await p1.rt.dispatcher!.stop();

      await p2.rt.start();
      const toA = await enqueue(p2, { channel: 'whatsapp', target: CUSTOMER_A, ...template(3) });
      const toB = await enqueue(p2, { channel: 'whatsapp', target: CUSTOMER_B, ...template(4) });

      // B goes out at once, while A is still held.
      expect(await settled(p2, toB)).toMatchObject({ status: 'sent', attempts: 1 });
      const bSentAt = new Date((await attemptsOf(p2, toB))[0]!.finished_at).getTime();
      expect(bSentAt).toBeLessThan(refusedAt + PAIR_WAIT_MS - 1_000);
      expect(await rowState(p2, toA)).toMatchObject({ status: 'ready', attempts: 0 });
      expect(fake.limitRefusals[131056]).toBe(1);

      // A's new row is sent by process 2 once the hold is over, in one attempt: it never met the limit.
      const a = await waitFor(async () => {
        const s = await rowState(p2, toA);
        return s.status === 'sent' ? s : null;
      }, 20_000);
      expect(a.attempts).toBe(1);
      const [attempt] = await attemptsOf(p2, toA);
      expect(attempt).toMatchObject({ outcome: 'sent' });
      expect(new Date(attempt!.finished_at).getTime()).toBeGreaterThanOrEqual(refusedAt + PAIR_WAIT_MS - 500);
      // No request for A reached the provider during the hold.
      const toAReceipts = fake.receipts.filter((r) => r.body.waId === CUSTOMER_A.slice(1)).map((r) => r.at);
      expect(toAReceipts.filter((at) => at > refusedAt && at < refusedAt + PAIR_WAIT_MS - 500)).toEqual([]);
    } finally {
      await fake.close();
    }
  }, 60_000);
});
