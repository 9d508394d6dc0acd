import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, postgresAvailable, type TestDb } from '../helpers/db.ts';
import { testConfig, waitFor } from '../helpers/runtime.ts';
import { freePort, startChild, type ChildService } from '../helpers/child.ts';
import { Dispatcher } from '../../src/dispatch/dispatcher.ts';
import { Metrics } from '../../src/kernel/metrics.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { createRegistry } from '../../src/providers/registry.ts';
import type { LanDelivery } from '../../src/providers/lan-hub.ts';
import type { OutboxRow } from '../../src/store/rows.ts';
import { insertDueRows, makeTenants } from './rows.ts';
import { checkLeases } from './leases.ts';

/** A LAN hub double whose hand-over never returns for rows with an odd index in their body. */
class HalfHungHub implements LanDelivery {
  readonly started = new Set<string>();
  async deliver(row: OutboxRow): Promise<{ devices: string[] }> {
    this.started.add(row.id);
    if (Number(/#(\d+)/.exec(row.body ?? '')?.[1]) % 2 === 1) await new Promise(() => undefined);
    return { devices: ['pos-1'] };
  }
}

for (const kind of await drivers()) {
  describe(`graceful stop [${kind}]`, () => {
    let tdb: TestDb | null = null;
    afterAll(async () => tdb?.cleanup());

    it('sends that finish are recorded; sends still hung after the grace are released at once, audited', async () => {
      tdb = await createTestDb(kind);
      await makeTenants(tdb.db, ['acme']);
      await insertDueRows(tdb.db, { tenant: 'acme', n: 40 });
      const config = testConfig({ COMMS_LEASE_MS: '60000', COMMS_POLL_MS: '50' });
      const redactor = createRedactor(config.secrets);
      const hub = new HalfHungHub();
      const d = new Dispatcher({
        db: tdb.db,
        config,
        registry: createRegistry({ config, redactor }, { lanHub: () => hub }),
        redactor,
        metrics: new Metrics(),
        logger: pino({ level: 'silent' }),
        worker: 'dispatcher-stopping',
      });
      await d.start();
      await waitFor(async () => {
        const r = await tdb!.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE status = 'sent'`,
        );
        return r.rows[0]!.n === 20 && hub.started.size === 40;
      });
      const t0 = Date.now();
      await d.stop(300);
      // The hung half did not hold the stop for its 60 s lease, nor for the 5 s LAN timeout.
      expect(Date.now() - t0).toBeLessThan(3_000);

      const rows = await tdb.db.query<{ status: string; n: number; leased: number; due: number }>(
        `SELECT status, count(*)::int AS n, count(lease_owner)::int AS leased,
           count(*) FILTER (WHERE next_attempt_at <= now())::int AS due
         FROM outbox GROUP BY status ORDER BY status`,
      );
      // Released rows are due again now: another dispatcher takes them without waiting for a lease.
      expect(rows.rows).toEqual([
        { status: 'failed', n: 20, leased: 0, due: 20 },
        { status: 'sent', n: 20, leased: 0, due: 0 },
      ]);
      const audit = await tdb.db.query<{ reason: string; detail: { outcome: string; errorCode: string } }>(
        `SELECT reason, detail FROM audit_events WHERE action = 'attempt' AND to_status = 'failed'`,
      );
      expect(audit.rows).toHaveLength(20);
      for (const a of audit.rows) {
        expect(a.detail).toMatchObject({ outcome: 'released', errorCode: 'dispatcher_stopped' });
        expect(a.reason).toMatch(/released at shutdown .*may have been delivered/);
      }
      const ids = (await tdb.db.query<{ id: string }>('SELECT id::text FROM outbox')).rows.map((r) => r.id);
      expect((await checkLeases(tdb.db, ids)).violations).toEqual([]);
    });
  });
}

describe.runIf(await postgresAvailable())('`mupza-comms dispatch` process [postgres]', () => {
  const children: ChildService[] = [];
  let tdb: TestDb | null = null;
  afterAll(async () => {
    for (const c of children) await c.kill();
    await tdb?.cleanup();
  });

  it('runs no HTTP server, dispatches, and on SIGTERM exits 0 leaving no row in sending', async () => {
    tdb = await createTestDb('postgres');
    await makeTenants(tdb.db, ['acme']);
    // Dry-run email rows (QA runtime): a few thousand, so SIGTERM lands mid-drain.
    await insertDueRows(tdb.db, { tenant: 'acme', n: 3_000, adapter: 'smtp', channel: 'email' });
    await tdb.db.query(`UPDATE outbox SET target = 'guest@example.az', mode = 'dry_run'`);
    const port = await freePort();
    const env = {
      DATABASE_URL: tdb.url!,
      PORT: String(port),
      HOST: '127.0.0.1',
      COMMS_BATCH_SIZE: '20',
      COMMS_POLL_MS: '50',
      COMMS_LEASE_MS: '60000',
    };
    const first = startChild('dispatch', env);
    children.push(first);
    await first.waitForLine(/MUPZAOS comms dispatch/, 60_000);
    // Dispatch mode listens on nothing.
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(first.output.join('\n')).not.toMatch(/API and owner panel on/);

    await waitFor(async () => {
      const r = await tdb!.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE status = 'mock_sent'`,
      );
      return r.rows[0]!.n >= 200;
    }, 30_000);
    const exited = new Promise<number | null>((r) => first.proc.once('exit', (code) => r(code)));
    first.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    await first.waitForLine(/SIGTERM: stopping/);

    const st = await tdb.db.query<{ sending: number; done: number }>(
      `SELECT count(*) FILTER (WHERE status = 'sending')::int AS sending, count(*) FILTER (WHERE status = 'mock_sent')::int AS done FROM outbox`,
    );
    expect(st.rows[0]!.sending).toBe(0);
    // It stopped mid-drain: the rest is still there for the next dispatcher.
    expect(st.rows[0]!.done).toBeLessThan(3_000);

    const second = startChild('dispatch', env);
    children.push(second);
    await waitFor(
      async () => {
        const r = await tdb!.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE status = 'mock_sent'`,
        );
        return r.rows[0]!.n === 3_000;
      },
      60_000,
      100,
    );
    await second.kill('SIGTERM');
    const ids = (await tdb.db.query<{ id: string }>('SELECT id::text FROM outbox')).rows.map((r) => r.id);
    expect((await checkLeases(tdb.db, ids)).violations).toEqual([]);
  }, 120_000);
});
