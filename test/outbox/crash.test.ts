import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { freePort, startChild, type ChildService } from '../helpers/child.ts';
import { waitFor } from '../helpers/runtime.ts';
import { PgliteDb } from '../../src/store/pglite-driver.ts';

const TOKEN = 'mz_owner_crash-test-bootstrap-token-0001';
const N = 4_000;

async function metricsRows(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^comms_outbox_rows\{status="(\w+)",channel="(\w+)"\} (\d+)/gm)) {
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[3]);
  }
  return out;
}

for (const kind of await drivers()) {
  describe(`SIGKILL mid-batch loses nothing [${kind}]`, () => {
    const children: ChildService[] = [];
    let tdb: TestDb | null = null;
    let dataDir: string | null = null;
    afterAll(async () => {
      for (const c of children) await c.kill();
      await tdb?.cleanup();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('every acknowledged row survives; after restart every row reaches a terminal state', async () => {
      const port = await freePort();
      const env: Record<string, string> = {
        PORT: String(port),
        HOST: '127.0.0.1',
        COMMS_BOOTSTRAP_OWNER_TOKEN: TOKEN,
        COMMS_LEASE_MS: '1500',
        COMMS_BATCH_SIZE: '50',
        COMMS_POLL_MS: '50',
        COMMS_BATCH_BODY_LIMIT_BYTES: '8388608',
      };
      if (kind === 'postgres') {
        tdb = await createTestDb('postgres');
        env.DATABASE_URL = tdb.url!;
      } else {
        dataDir = await mkdtemp(join(tmpdir(), 'comms-crash-'));
        env.DATA_DIR = dataDir;
      }
      const base = `http://127.0.0.1:${port}`;
      const first = startChild('serve', env);
      children.push(first);
      await first.waitForLine(/API and owner panel on/, 60_000);

      // Hold dispatch back while enqueueing by scheduling the rows ahead, and spread their due times
      // over SPREAD_MS so the drain takes that long however fast the store is: the kill then lands
      // mid-drain on a fast idle box and on a loaded CI runner alike.
      const SPREAD_MS = 8_000;
      const sendAtMs = Date.now() + (kind === 'pglite' ? 40_000 : 25_000);
      const dueAt = (i: number) => new Date(sendAtMs + Math.floor((i * SPREAD_MS) / N)).toISOString();
      const acked: string[] = [];
      for (let b = 0; b < N / 1000; b++) {
        const messages = Array.from({ length: 1000 }, (_, i) => ({
          channel: 'email',
          target: `guest${b * 1000 + i}@example.az`,
          body: `Rezervasiya təsdiqləndi #${b * 1000 + i}`,
          source: 'crash_test',
          sendAt: dueAt(b * 1000 + i),
        }));
        const res = await fetch(`${base}/api/v1/outbox/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ messages }),
        });
        expect(res.status).toBe(202);
        acked.push(...((await res.json()) as { items: { id: string }[] }).items.map((i) => i.id));
      }
      expect(acked).toHaveLength(N);

      // Kill -9 once the first process has delivered some rows and well before it could finish.
      await new Promise((r) => setTimeout(r, Math.max(0, sendAtMs - Date.now())));
      const before = await waitFor(
        async () => {
          const n = (await metricsRows(base)).mock_sent ?? 0;
          return n >= 200 ? n : null;
        },
        60_000,
        25,
      );
      // The API answers while the lanes drain (on PGlite too, where a busy lane must yield to sockets).
      expect(before).toBeLessThan(N);
      await first.kill('SIGKILL');

      const second = startChild('serve', env);
      children.push(second);
      await second.waitForLine(/API and owner panel on/, 60_000);
      const final = await waitFor(
        async () => {
          const r = await metricsRows(base);
          return (r.mock_sent ?? 0) === N ? r : null;
        },
        30_000,
        100,
      );
      expect(final.sending ?? 0).toBe(0);

      // Every acknowledged id is there, in a terminal state, with a complete audit trail.
      for (const id of acked.filter((_, i) => i % 97 === 0)) {
        const r = await fetch(`${base}/api/v1/outbox/${id}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { status: string }).status).toBe('mock_sent');
      }
      await second.kill('SIGTERM');

      // Read the store directly now that no process holds it.
      const db = kind === 'postgres' ? tdb!.db : await PgliteDb.open({ dataDir: dataDir! });
      const r = await db.query<{ rows: number; done: number; workers: number; unaudited: number }>(
        `SELECT count(*)::int AS rows, count(*) FILTER (WHERE status = 'mock_sent')::int AS done,
           (SELECT count(DISTINCT worker)::int FROM outbox_attempts a WHERE a.outbox_id = ANY($1::uuid[])) AS workers,
           count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.entity_id = o.id::text AND e.to_status = 'mock_sent'))::int AS unaudited
         FROM outbox o WHERE o.id = ANY($1::uuid[])`,
        [acked],
      );
      // Both processes did part of the work: the kill landed mid-drain.
      expect(r.rows[0]).toEqual({ rows: N, done: N, workers: 2, unaudited: 0 });
      if (kind === 'pglite') await db.close();
    }, 180_000);
  });
}
