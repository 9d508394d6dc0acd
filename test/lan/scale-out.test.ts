import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, postgresAvailable, type TestDb } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { CLOSE } from '../../src/lan/protocol.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import { connectDevice, listenLan, registerDevice, rowStatus, type RecordingDevice } from './helpers.ts';

/**
 * Two API processes on one PostgreSQL, as two Runtime instances in this process, each with its own
 * connection pool and its own LISTEN connection. Process 1 runs the API only (no dispatcher), so
 * every inbox write happens in process 2 and reaches process 1's sockets through NOTIFY.
 */
describe.runIf(await postgresAvailable())('scale-out: two API processes on one PostgreSQL', () => {
  let base: TestDb;
  let p1: TestApp;
  let p2: TestApp;
  let ws1: string;
  let ws2: string;
  let second: PostgresDb;
  const open: RecordingDevice[] = [];
  beforeAll(async () => {
    base = await createTestDb('postgres');
    p1 = await createTestApp('postgres', { testDb: base, mode: 'api', modules: [lanModule()] });
    second = await PostgresDb.open(base.url!);
    p2 = await createTestApp('postgres', {
      testDb: { db: second, kind: 'postgres', url: base.url, cleanup: () => second.close() },
      modules: [lanModule()],
    });
    ws1 = (await listenLan(p1)).ws;
    ws2 = (await listenLan(p2)).ws;
  });
  afterAll(async () => {
    for (const d of open) await d.close();
    await p2.close();
    await second.close();
    await p1.close();
    await base.cleanup();
  });

  it('a device on process 1 receives a notification enqueued on process 2, and its ack there makes the row delivered', async () => {
    expect(p1.rt.dispatcher).toBeNull();
    expect(p2.rt.dispatcher).not.toBeNull();
    const token = await registerDevice(p1, p1.ownerToken, 'kds-1', 'kitchen');
    const d = await connectDevice(ws1, token);
    open.push(d);
    const t0 = Date.now();
    const res = await p2.as(p2.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/notifications',
      payload: {
        target: { role: 'kitchen' },
        title: 'Ticket ready',
        body: 'Table 4',
        source: 'kitchen_desktop',
      },
    });
    expect(res.statusCode).toBe(202);
    const { id } = res.json() as { id: string };
    const [n] = await d.waitForCount(1, 5_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(n).toMatchObject({ id, seq: 1, title: 'Ticket ready' });
    await waitFor(async () => (await rowStatus(p2, p2.ownerToken, id)) === 'delivered');
    const attempts = (await p2.as(p2.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` })).json() as {
      attempts: { response: { devices: string[] } }[];
    };
    expect(attempts.attempts[0]!.response.devices).toEqual(['kds-1']);
  });

  it('a burst enqueued on process 2 arrives at process 1 complete and in seq order', async () => {
    const d = open[0]!;
    for (let i = 0; i < 50; i++) {
      await p2.as(p2.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: { target: { device: 'kds-1' }, title: `Burst ${i}`, body: 'x', source: 'kitchen_desktop' },
      });
    }
    const got = await d.waitForCount(51);
    got.forEach((n, i) => expect(n.seq).toBe(i + 1));
    expect(got.slice(1).map((n) => n.title)).toEqual(Array.from({ length: 50 }, (_, i) => `Burst ${i}`));
  });

  it('both processes see the device as connected; a device moving to process 2 closes its socket on process 1', async () => {
    const list = (await p2.as(p2.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' })).json() as {
      devices: { id: string; connected: boolean }[];
    };
    expect(list.devices).toEqual([expect.objectContaining({ id: 'kds-1', connected: true })]);
    const rot = await p1.as(p1.ownerToken, { method: 'POST', url: '/api/v1/lan/devices/kds-1/token' });
    const fresh = (rot.json() as { token: string }).token;
    await waitFor(async () => open[0]!.closes.length > 0, 5_000, 10);
    const moved = await connectDevice(ws2, fresh, { after: open[0]!.client.lastSeq! });
    open.push(moved);
    // The same device opens a second socket on process 1: process 2's socket is the older one.
    const twin = await connectDevice(ws1, fresh, { after: moved.client.lastSeq ?? 0 });
    open.push(twin);
    await waitFor(async () => moved.closes.length > 0, 5_000, 10);
    expect(moved.closes[0]!.code).toBe(CLOSE.replaced);
    expect(twin.closes).toEqual([]);
  });

  it('revoking the device on process 2 closes its socket on process 1 within 5 s', async () => {
    const d = open.at(-1)!;
    const t0 = Date.now();
    const del = await p2.as(p2.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/kds-1' });
    expect(del.statusCode).toBe(204);
    await waitFor(async () => d.closes.length > 0, 5_000, 10);
    expect(d.closes[0]!.code).toBe(CLOSE.revoked);
    expect(d.closes[0]!.at - t0).toBeLessThan(5_000);
  });
});
