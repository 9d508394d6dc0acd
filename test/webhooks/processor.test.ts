import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapPhoneNumber } from '../../src/webhooks/routing.ts';
import { buildInboundPayload, newWamid } from '../fakes/whatsapp-cloud.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { count, metaSigned, modulesWith, PHONE_ID, postWhatsApp, settledReceipts } from './helpers.ts';

const post = async (app: TestApp, i: number) => {
  const { raw, signature } = metaSigned(
    buildInboundPayload({
      phoneNumberId: PHONE_ID,
      from: '994507770000',
      text: `#${i}`,
      id: newWamid(),
      timestamp: 1_750_400_000 + i,
    }),
  );
  expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(200);
};

for (const kind of await drivers()) {
  describe(`webhook processor [${kind}]`, () => {
    let tdb: TestDb;
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      tdb = await createTestDb(kind);
      // Two service instances on one database, each with its own processor.
      a = await createTestApp(kind, { testDb: tdb, modules: modulesWith().modules });
      b = await createTestApp(kind, { testDb: tdb, modules: modulesWith().modules });
      await mapPhoneNumber(tdb.db, PHONE_ID, 'acme');
    });
    afterAll(async () => {
      await a.close();
      await b.close();
      await tdb.cleanup();
    });

    it('two processors on one database apply every delivery once', async () => {
      const before = await count(a, 'audit_events', `entity = 'inbound'`);
      for (let i = 0; i < 60; i++) await post(i % 2 ? a : b, i);
      await settledReceipts(a);
      expect(await count(a, 'webhook_receipts', `outcome = 'processed'`)).toBe(60);
      expect(await count(a, 'audit_events', `entity = 'inbound'`)).toBe(before + 60);
    });

    it('a delivery that cannot be processed is retried with backoff without holding up the others, then given up', async () => {
      // Stored bytes that no longer parse (e.g. damaged): processing throws.
      const bad = (
        await tdb.db.query<{ id: string }>(
          `INSERT INTO webhook_receipts (provider, dedupe_key, body) VALUES ('whatsapp', 'damaged-1', '{"entry":') RETURNING id::text`,
        )
      ).rows[0]!.id;
      await post(a, 1000);
      await waitFor(
        async () => (await count(a, 'webhook_receipts', `id = $1 AND last_error IS NOT NULL`, [bad])) === 1,
      );
      await waitFor(
        async () => (await count(a, 'webhook_receipts', `processed_at IS NULL AND id <> $1`, [bad])) === 0,
      );
      const r = (
        await tdb.db.query<{
          attempts: number;
          due_in_ms: number;
          processed_at: Date | null;
          last_error: string;
        }>(
          `SELECT attempts, extract(epoch FROM next_attempt_at - now()) * 1000 AS due_in_ms, processed_at, last_error FROM webhook_receipts WHERE id = $1`,
          [bad],
        )
      ).rows[0]!;
      expect(r.processed_at).toBeNull();
      expect(r.attempts).toBeGreaterThanOrEqual(1);
      expect(Number(r.due_in_ms)).toBeGreaterThan(0);
      expect(r.last_error).toMatch(/JSON/);
      // The tenth attempt is the last.
      await tdb.db.query(`UPDATE webhook_receipts SET attempts = 9, next_attempt_at = now() WHERE id = $1`, [
        bad,
      ]);
      await waitFor(
        async () =>
          (await count(a, 'webhook_receipts', `id = $1 AND outcome = 'failed' AND processed_at IS NOT NULL`, [
            bad,
          ])) === 1,
      );
      expect(
        a.logs
          .parsed()
          .concat(b.logs.parsed())
          .some((l) => l.msg === 'webhook delivery could not be processed' && l.final === true),
      ).toBe(true);
    });
  });

  describe(`waking the processors [${kind}]`, () => {
    // The processors poll once a minute here: only a wake-up explains processing within seconds.
    const SLOW_POLL = { COMMS_POLL_MS: '60000' };
    const apps: TestApp[] = [];
    const extra: TestDb[] = [];
    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
      for (const t of extra) await t.cleanup();
    });

    it('a stored delivery wakes the processor of the process that stored it at once', async () => {
      const app = await createTestApp(kind, { env: SLOW_POLL, modules: modulesWith().modules });
      apps.push(app);
      await mapPhoneNumber(app.db, PHONE_ID, 'acme');
      await post(app, 1);
      await waitFor(async () => (await count(app, 'webhook_receipts', `outcome = 'processed'`)) === 1, 5_000);
    });

    it.runIf(kind === 'postgres')(
      'a delivery stored by an API-only process wakes the processor in another process (NOTIFY after the answer)',
      async () => {
        const back = await createTestApp(kind, { env: SLOW_POLL, modules: modulesWith().modules });
        apps.push(back);
        await mapPhoneNumber(back.db, PHONE_ID, 'acme');
        // Its own pool and listener on the same database: a separate process as far as NOTIFY goes.
        const db = await PostgresDb.open(back.url!);
        const own: TestDb = { db, kind, url: back.url, cleanup: () => db.close() };
        extra.push(own);
        const front = await createTestApp(kind, {
          env: SLOW_POLL,
          modules: modulesWith().modules,
          testDb: own,
          mode: 'api',
        });
        apps.push(front);
        expect(front.rt.mode).toBe('api');
        await post(front, 2);
        await waitFor(
          async () => (await count(back, 'webhook_receipts', `outcome = 'processed'`)) === 1,
          5_000,
        );
      },
    );
  });

  describe(`stopping a stalled processor [${kind}]`, () => {
    let app: TestApp;
    let entered = 0;
    beforeAll(async () => {
      const { modules } = modulesWith({
        hooks: {
          beforeProcess: (_r, signal) =>
            new Promise<void>((resolve) => {
              entered++;
              signal.addEventListener('abort', () => resolve(), { once: true });
            }),
        },
      });
      app = await createTestApp(kind, { modules });
      await mapPhoneNumber(app.db, PHONE_ID, 'acme');
    });
    afterAll(() => app.close());

    it('releases the deliveries it had claimed (due now, not after the lease) and processed none', async () => {
      for (let i = 0; i < 5; i++) await post(app, i);
      await waitFor(async () => entered > 0);
      await app.rt.stop();
      expect(await count(app, 'inbound_messages')).toBe(0);
      expect(await count(app, 'webhook_receipts', 'processed_at IS NULL AND next_attempt_at <= now()')).toBe(
        5,
      );
    });
  });
}
