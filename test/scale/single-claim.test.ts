import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { testConfig, waitFor } from '../helpers/runtime.ts';
import { Dispatcher } from '../../src/dispatch/dispatcher.ts';
import { Metrics } from '../../src/kernel/metrics.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { createRegistry } from '../../src/providers/registry.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import type { Db } from '../../src/store/driver.ts';
import type { LanDelivery } from '../../src/providers/lan-hub.ts';
import type { OutboxRow } from '../../src/store/rows.ts';
import { insertDueRows, makeTenants } from './rows.ts';
import { checkLeases } from './leases.ts';

const ROWS = 1_000;
const DISPATCHERS = 4;
// The shortest lease the config allows; a few sends are made to outlive it on purpose.
const LEASE_MS = 1_000;
const SLOW_MS = 1_700;

/** A LAN hub double: records every hand-over; the first attempt of every 100th row hangs past its lease. */
class RecordingHub implements LanDelivery {
  readonly calls: { id: string; attempt: number }[] = [];
  constructor(private readonly slow: ReadonlySet<string>) {}
  async deliver(row: OutboxRow): Promise<{ devices: string[] }> {
    this.calls.push({ id: row.id, attempt: row.attempts });
    const ms = this.slow.has(row.id) && row.attempts === 1 ? SLOW_MS : Math.random() * 4;
    await new Promise((r) => setTimeout(r, ms));
    return { devices: ['kitchen-1'] };
  }
}

for (const kind of await drivers()) {
  describe(`single claim under concurrency [${kind}]`, () => {
    const pools: Db[] = [];
    let tdb: TestDb | null = null;
    const dispatchers: Dispatcher[] = [];
    afterAll(async () => {
      for (const d of dispatchers) await d.stop(0);
      for (const p of pools) if (p !== tdb?.db) await p.close();
      await tdb?.cleanup();
    });

    it(`${DISPATCHERS} dispatchers, ${ROWS} rows: no two overlapping leases on one row, nothing lost`, async () => {
      tdb = await createTestDb(kind);
      await makeTenants(tdb.db, ['alpha', 'beta']);
      await insertDueRows(tdb.db, { tenant: 'alpha', n: ROWS / 2 });
      await insertDueRows(tdb.db, { tenant: 'beta', n: ROWS / 2 });
      const ids = (
        await tdb.db.query<{ id: string }>(`SELECT id::text FROM outbox ORDER BY created_at, id`)
      ).rows.map((r) => r.id);
      expect(ids).toHaveLength(ROWS);
      const slow = new Set(ids.filter((_, i) => i % 100 === 7));
      const hub = new RecordingHub(slow);

      const config = testConfig({
        COMMS_LEASE_MS: String(LEASE_MS),
        COMMS_POLL_MS: '50',
        COMMS_BATCH_SIZE: '20',
        COMMS_LAN_CONCURRENCY: '2',
      });
      const redactor = createRedactor(config.secrets);
      for (let i = 0; i < DISPATCHERS; i++) {
        // PostgreSQL: each dispatcher has its own pool, as separate processes would. PGlite has one
        // connection, so the four share it (the claim SQL is the same).
        const db = kind === 'postgres' ? await PostgresDb.open(tdb.url!, 4) : tdb.db;
        pools.push(db);
        const d = new Dispatcher({
          db,
          config,
          registry: createRegistry({ config, redactor }, { lanHub: () => hub }),
          redactor,
          metrics: new Metrics(),
          logger: pino({ level: 'silent' }),
          worker: `dispatcher-${i}`,
        });
        dispatchers.push(d);
      }
      await Promise.all(dispatchers.map((d) => d.start()));

      await waitFor(
        async () => {
          const r = await tdb!.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM outbox WHERE status = 'sent'`,
          );
          return r.rows[0]!.n === ROWS;
        },
        60_000,
        100,
      );
      // Let the slow first attempts come back and be refused (their lease is gone).
      await new Promise((r) => setTimeout(r, SLOW_MS));
      for (const d of dispatchers) await d.stop();

      const { leases, violations } = await checkLeases(tdb.db, ids);
      expect(violations).toEqual([]);
      // Every row was claimed, and every lease ended: by its outcome or by expiry.
      expect(new Set(leases.map((l) => l.rowId)).size).toBe(ROWS);
      expect(leases.every((l) => l.end !== null)).toBe(true);
      // Every slow row lost its first lease to expiry and was sent again under a later one.
      const expired = new Set(leases.filter((l) => l.end === 'lease_expired').map((l) => l.rowId));
      for (const id of slow) expect(expired.has(id)).toBe(true);
      // The work really was shared: every dispatcher held leases.
      const perWorker = new Map<string, number>();
      for (const l of leases) perWorker.set(l.worker, (perWorker.get(l.worker) ?? 0) + 1);
      expect([...perWorker.keys()].sort()).toEqual(dispatchers.map((d) => d.worker).sort());

      // The hand-overs: every row at least once; a row handed over twice is one whose lease expired.
      const handed = new Map<string, number>();
      for (const c of hub.calls) handed.set(c.id, (handed.get(c.id) ?? 0) + 1);
      expect(handed.size).toBe(ROWS);
      const twice = [...handed].filter(([, n]) => n > 1).map(([id]) => id);
      for (const id of twice) expect(expired.has(id)).toBe(true);
      expect(twice.length).toBeGreaterThanOrEqual(slow.size);

      // The final state: every row sent exactly once on record, no row left in sending.
      const st = await tdb.db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM outbox GROUP BY status`,
      );
      expect(st.rows).toEqual([{ status: 'sent', n: ROWS }]);
    }, 120_000);
  });
}
