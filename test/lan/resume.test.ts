import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import {
  connectDevice,
  expectContiguous,
  listenLan,
  registerDevice,
  type RecordingDevice,
} from './helpers.ts';

const N = 500;

async function countInApp(app: TestApp, status: string): Promise<number> {
  const r = await app.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox WHERE tenant_id = 'acme' AND channel = 'in_app' AND status = $1`,
    [status],
  );
  return Number(r.rows[0]!.n);
}

for (const kind of await drivers()) {
  describe(`a device that was away gets everything it missed, in order [${kind}]`, () => {
    let app: TestApp;
    let ws: string;
    let token: string;
    const open: RecordingDevice[] = [];
    beforeAll(async () => {
      app = await createTestApp(kind, { modules: [lanModule()] });
      ws = (await listenLan(app)).ws;
      token = await registerDevice(app, app.ownerToken, 'kds-1', 'kitchen', 'Kitchen screen 1');
    });
    afterAll(async () => {
      for (const d of open) await d.close();
      await app.close();
    });

    // The scenario is a 60 s disconnect. How long the device is away does not change the
    // mechanism (a durable inbox read from the device's last seq), so the device is away for as long
    // as the 500 sends take here (a few seconds).
    it(`${N} notifications sent while the device is disconnected arrive on reconnect: all, in order, 0 gaps`, async () => {
      const first = await connectDevice(ws, token);
      const warm = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: {
          target: { device: 'kds-1' },
          title: 'warm-up',
          body: 'first ticket',
          source: 'kitchen_desktop',
        },
      });
      expect(warm.statusCode).toBe(202);
      await first.waitForCount(1);
      await waitFor(async () => (await countInApp(app, 'delivered')) === 1);
      await first.close();
      const lastSeq = first.client.lastSeq!;
      expect(lastSeq).toBe(1);

      const ids: string[] = [];
      for (let i = 1; i <= N; i++) {
        const res = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/lan/notifications',
          payload: {
            target: i % 2 ? { device: 'kds-1' } : { role: 'kitchen' },
            title: `Ticket #${i}`,
            body: `Order ${i} for table ${(i % 20) + 1}`,
            source: 'kitchen_desktop',
          },
        });
        expect(res.statusCode).toBe(202);
        ids.push((res.json() as { id: string }).id);
      }
      // Everything is in the offline device's inbox, waiting for its ack.
      await waitFor(async () => (await countInApp(app, 'sent')) === N, 30_000, 50);

      const back = await connectDevice(ws, token, { after: lastSeq });
      open.push(back);
      expect(back.hello).toMatchObject({ lastSeq: lastSeq + N, ackedSeq: lastSeq });
      const got = await back.waitForCount(N, 30_000);
      expect(got).toHaveLength(N);
      expectContiguous(got, lastSeq + 1);
      // One dispatcher and no crash: inbox order is enqueue order.
      expect(got.map((n) => n.id)).toEqual(ids);
      expect(got.map((n) => n.title)).toEqual(ids.map((_, i) => `Ticket #${i + 1}`));
      await waitFor(async () => (await countInApp(app, 'delivered')) === N + 1, 30_000, 50);
    }, 180_000);

    it('a device that drops in the middle of a replay resumes from its last seq: no gaps, no duplicates', async () => {
      await open.pop()!.close();
      const before = await app.db.query<{ last_seq: number }>(
        `SELECT last_seq FROM lan_devices WHERE tenant_id = 'acme' AND id = 'kds-1'`,
      );
      const base = Number(before.rows[0]!.last_seq);
      for (let i = 0; i < 100; i++) {
        await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/lan/notifications',
          payload: {
            target: { device: 'kds-1' },
            title: `Batch 2 #${i}`,
            body: 'x',
            source: 'kitchen_desktop',
          },
        });
      }
      await waitFor(async () => (await countInApp(app, 'sent')) === 100, 30_000, 50);
      // No acks: the device crashes after taking 40 and remembers seq base+40.
      const partial = await connectDevice(ws, token, { after: base, ack: false });
      await partial.waitForCount(40);
      partial.client.ws!.terminate();
      const kept = partial.got.slice(0, 40);
      const again = await connectDevice(ws, token, { after: base + 40 });
      open.push(again);
      const rest = await again.waitForCount(60);
      const all = [...kept, ...rest];
      expect(all).toHaveLength(100);
      expectContiguous(all, base + 1);
      await waitFor(async () => (await countInApp(app, 'sent')) === 0, 30_000, 50);
    }, 120_000);
  });
}
