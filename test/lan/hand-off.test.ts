import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { EVENTS_CHANNEL, parseNotice, type ChangeNotice } from '../../src/store/sql/notify.ts';
import {
  connectDevice,
  expectContiguous,
  listenLan,
  registerDevice,
  type RecordingDevice,
} from './helpers.ts';

// An in_app row stored by a process that runs the LAN hub and a dispatcher goes straight to that
// process's LAN lane (Lane.adopt): no wake-up NOTIFY, no claim scan. The dispatcher's poll is set
// to a minute here, so only the hand-off (or a wake-up) can deliver within the test's time.
for (const kind of await drivers()) {
  describe(`in_app rows go straight to this process's LAN lane [${kind}]`, () => {
    let app: TestApp;
    let ws: string;
    let screen: RecordingDevice;
    const notices: ChangeNotice[] = [];
    let unlisten: () => Promise<void>;

    beforeAll(async () => {
      app = await createTestApp(kind, { modules: [lanModule()], env: { COMMS_POLL_MS: '60000' } });
      ws = (await listenLan(app)).ws;
      const token = await registerDevice(app, app.ownerToken, 'pos-desktop-01', 'pos');
      screen = await connectDevice(ws, token);
      unlisten = await app.db.listen(EVENTS_CHANNEL, (p) => {
        const n = parseNotice(p);
        if (n) notices.push(n);
      });
    });
    afterAll(async () => {
      await screen.close();
      await unlisten();
      await app.close();
    });

    const post = (title: string) =>
      app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: { target: { device: 'pos-desktop-01' }, title, body: 'ready', source: 'kitchen_desktop' },
      });

    /** The notice that announced the row's creation (status ready). */
    const creationNotice = (id: string) =>
      waitFor(async () => notices.find((n) => n.e.some(([rid, st]) => rid === id && st === 'ready')));

    it('is claimed by the local lane with no wake-up announced, and delivered', async () => {
      const res = await post('Ticket 1 ready');
      expect(res.statusCode, res.body).toBe(202);
      const { id } = res.json() as { id: string };
      await waitFor(async () => screen.got.some((n) => n.id === id), 5_000);
      expect((await creationNotice(id)).w).toEqual([]);
      // The entry was pushed at the enqueue's commit; the lane's claim follows it.
      const claimed = await waitFor(async () => {
        const r = await app.db.query<{ actor: string }>(
          `SELECT actor FROM audit_events WHERE entity_id = $1 AND action = 'claimed'`,
          [id],
        );
        return r.rows.length > 0 ? r.rows : null;
      }, 5_000);
      expect(claimed.map((r) => r.actor)).toEqual([app.rt.dispatcher!.worker]);
      await waitFor(async () => {
        const r = await app.db.query<{ status: string }>('SELECT status FROM outbox WHERE id = $1', [id]);
        return r.rows[0]!.status === 'delivered';
      }, 5_000);
    });

    it('a row the lane is not offered is announced with a wake-up and still delivered', async () => {
      app.rt.outbox.setHandOff(null);
      try {
        const res = await post('Ticket 2 ready');
        expect(res.statusCode, res.body).toBe(202);
        const { id } = res.json() as { id: string };
        expect((await creationNotice(id)).w).toEqual(['lan_hub']);
        await waitFor(async () => screen.got.some((n) => n.id === id), 5_000);
      } finally {
        const lane = app.rt.dispatcher!.lanes.get('lan_hub')!;
        app.rt.outbox.setHandOff((row) => lane.adopt(row));
      }
    });

    it('a stopped lane refuses the hand-off, so nothing waits on it', async () => {
      const lane = app.rt.dispatcher!.lanes.get('lan_hub')!;
      const row = { id: '00000000-0000-4000-8000-000000000001', adapter: 'lan_hub' } as never;
      const other = { id: '00000000-0000-4000-8000-000000000002', adapter: 'smtp' } as never;
      expect(lane.adopt(other)).toBe(false);
      const spare = app.rt.dispatcher!.lanes.get('smtp')!;
      await spare.stop(0);
      expect(spare.adopt({ ...(row as object), adapter: 'smtp' } as never)).toBe(false);
    });

    it('50 concurrent notifications reach the screen once each, with contiguous seqs', async () => {
      // Concurrent requests have no order of their own (their commits race); sequential ones keep
      // theirs (resume.test.ts checks 500 in enqueue order).
      const before = screen.got.length;
      const firstSeq = screen.got[before - 1]!.seq + 1;
      const res = await Promise.all(Array.from({ length: 50 }, (_, i) => post(`Burst ${i}`)));
      for (const r of res) expect(r.statusCode, r.body).toBe(202);
      const got = (await screen.waitForCount(before + 50, 10_000)).slice(before);
      expect(got).toHaveLength(50);
      expectContiguous(got, firstSeq);
      expect(new Set(got.map((n) => n.id))).toEqual(new Set(res.map((r) => (r.json() as { id: string }).id)));
    });
  });
}
