import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import type { LanHub } from '../../src/lan/hub.ts';
import { appendToInboxes, touchSeen } from '../../src/lan/inbox.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import type { OutboxRow } from '../../src/store/rows.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { connectDevice, listenLan, registerDevice, type RecordingDevice } from './helpers.ts';

// A process running the LAN hub writes a due in_app row's inbox entries in the statement that
// stores the row (one commit) and pushes them right after: the screens do not wait for a dispatcher.
for (const kind of await drivers()) {
  describe(`in_app rows are in the device inboxes when they are stored [${kind}]`, () => {
    let tdb: TestDb;
    let api: TestApp;
    let screen: RecordingDevice;
    let ws: string;

    beforeAll(async () => {
      tdb = await createTestDb(kind);
      // API only: this process has the hub and the sockets but no dispatcher at all.
      api = await createTestApp(kind, { testDb: tdb, mode: 'api', modules: [lanModule()] });
      ({ ws } = await listenLan(api));
      screen = await connectDevice(ws, await registerDevice(api, api.ownerToken, 'kds-01', 'kitchen'));
    });
    afterAll(async () => {
      await screen.close();
      await api.close();
      await tdb.cleanup();
    });

    const post = (target: Record<string, string>, title: string) =>
      api.as(api.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: { target, title, body: 'ready', source: 'kitchen_desktop' },
      });
    const statusOf = async (id: string) =>
      (await api.db.query<{ status: string }>('SELECT status FROM outbox WHERE id = $1', [id])).rows[0]!
        .status;

    it('reaches the screen with no dispatcher running; the entry is stored with the row, which waits for a dispatcher', async () => {
      const res = await post({ role: 'kitchen' }, 'Ticket 1 ready');
      expect(res.statusCode, res.body).toBe(202);
      const { id } = res.json() as { id: string };
      // Stored with the row: present as soon as the answer is.
      const entries = await api.db.query<{ device_id: string; seq: string }>(
        'SELECT device_id, seq::text AS seq FROM lan_inbox WHERE outbox_id = $1',
        [id],
      );
      expect(entries.rows).toEqual([{ device_id: 'kds-01', seq: '1' }]);
      await screen.waitForCount(1, 5_000);
      expect(screen.got[0]).toMatchObject({ id, seq: 1, title: 'Ticket 1 ready' });
      expect(await statusOf(id)).toBe('ready');
    });

    it('a dispatcher started later takes the row through its lifecycle without writing a second entry', async () => {
      const dispatch = await createTestApp(kind, { testDb: tdb, mode: 'dispatch', modules: [lanModule()] });
      try {
        const [{ id }] = (
          await api.db.query<{ id: string }>(
            `SELECT id::text AS id FROM outbox WHERE channel = 'in_app' ORDER BY created_at LIMIT 1`,
          )
        ).rows as [{ id: string }];
        await waitFor(async () => (await statusOf(id)) === 'delivered', 15_000);
        const n = await api.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM lan_inbox WHERE outbox_id = $1',
          [id],
        );
        expect(n.rows[0]!.n).toBe(1);
        const actions = await api.db.query<{ action: string }>(
          `SELECT action FROM audit_events WHERE entity = 'outbox' AND entity_id = $1 ORDER BY id`,
          [id],
        );
        expect(actions.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['created', 'claimed']));
        expect(screen.got).toHaveLength(1);
      } finally {
        await dispatch.close();
      }
    });

    it('a role with no device: nothing is written, and the row is blocked no_device when dispatched', async () => {
      const dispatch = await createTestApp(kind, { testDb: tdb, mode: 'dispatch', modules: [lanModule()] });
      try {
        const res = await post({ role: 'printer' }, 'Print ticket');
        expect(res.statusCode, res.body).toBe(202);
        const { id } = res.json() as { id: string };
        await waitFor(async () => (await statusOf(id)) === 'blocked', 15_000);
        const reason = await api.db.query<{ reason: string }>('SELECT reason FROM outbox WHERE id = $1', [
          id,
        ]);
        expect(reason.rows[0]!.reason).toContain('no registered device matches role:printer');
        const n = await api.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM lan_inbox WHERE outbox_id = $1',
          [id],
        );
        expect(n.rows[0]!.n).toBe(0);
      } finally {
        await dispatch.close();
      }
    });

    it('opt-in switched off before a dispatcher claims a ticket already on the screens: the row waits queued, and is delivered once the opt-in is back', async () => {
      const res = await post({ role: 'kitchen' }, 'Ticket before opt-out');
      expect(res.statusCode, res.body).toBe(202);
      const { id } = res.json() as { id: string };
      await waitFor(async () => screen.got.some((n) => n.id === id), 5_000);
      const policy = (inApp: boolean) =>
        api.as(api.ownerToken, {
          method: 'PUT',
          url: '/api/v1/tenant/policy',
          payload: { optIns: { in_app: inApp } },
        });
      expect((await policy(false)).statusCode).toBe(200);
      const dispatch = await createTestApp(kind, { testDb: tdb, mode: 'dispatch', modules: [lanModule()] });
      try {
        await waitFor(async () => (await statusOf(id)) === 'queued', 15_000);
        expect((await policy(true)).statusCode).toBe(200);
        await waitFor(async () => (await statusOf(id)) === 'delivered', 15_000);
        const n = await api.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM lan_inbox WHERE outbox_id = $1',
          [id],
        );
        expect(n.rows[0]!.n).toBe(1);
        expect(screen.got.filter((g) => g.id === id)).toHaveLength(1);
      } finally {
        await dispatch.close();
      }
    });

    it('entries known to exist but not to this process (an answer lost after the commit) are read back by the sockets', async () => {
      const before = screen.got.length;
      const id = randomUUID();
      await api.db.query(
        `INSERT INTO outbox (id, tenant_id, channel, adapter, target, title, body, source, status, request_hash, max_attempts)
         VALUES ($1, 'acme', 'in_app', 'lan_hub', 'role:kitchen', 'Read back', 'x', 'test', 'ready', 'h', 3)`,
        [id],
      );
      const hub = api.rt.lanHub as LanHub;
      // Written as by this process (so no NOTIFY: the socket is held here), and not pushed.
      await appendToInboxes(api.db, hub.id, [
        { ord: 0, outboxId: id, tenantId: 'acme', target: 'role:kitchen', createdAt: new Date() },
      ]);
      // Watermark: an entry written afterwards for another screen by another hub process, which
      // announces it with a NOTIFY (lan_inbox notices arrive in commit order). Once that screen has
      // it, this hub has handled every notice the write above could have caused.
      const other = await connectDevice(ws, await registerDevice(api, api.ownerToken, 'pos-marker', 'pos'));
      try {
        const markerId = randomUUID();
        await api.db.query(
          `INSERT INTO outbox (id, tenant_id, channel, adapter, target, title, body, source, status, request_hash, max_attempts)
           VALUES ($1, 'acme', 'in_app', 'lan_hub', 'pos-marker', 'Marker', 'x', 'test', 'sent', 'h', 3)`,
          [markerId],
        );
        await appendToInboxes(api.db, 'another-hub', [
          { ord: 0, outboxId: markerId, tenantId: 'acme', target: 'pos-marker', createdAt: new Date() },
        ]);
        await other.waitForCount(1, 5_000);
        expect(other.got[0]).toMatchObject({ id: markerId, title: 'Marker' });
      } finally {
        await other.close();
      }
      expect(screen.got).toHaveLength(before);
      const row = (await api.db.query<OutboxRow>('SELECT * FROM outbox WHERE id = $1', [id])).rows[0]!;
      hub.pushWritten(row, null);
      await screen.waitForCount(before + 1, 5_000);
      expect(screen.got[before]).toMatchObject({ id, title: 'Read back' });
    });
  });

  describe(`the local lane's delivery of a row written at enqueue needs no second inbox write [${kind}]`, () => {
    let app: TestApp;
    let screen: RecordingDevice;
    let writes = 0;

    beforeAll(async () => {
      app = await createTestApp(kind, { modules: [lanModule()] });
      const { ws } = await listenLan(app);
      screen = await connectDevice(ws, await registerDevice(app, app.ownerToken, 'pos-01', 'pos'));
      // Counts the hub's own inbox writes (appendToInboxes), not the enqueue statement.
      const query = app.db.query.bind(app.db);
      app.db.query = ((sql: string, ...rest: unknown[]) => {
        if (sql.includes('FROM lan_append_inbox($1::text')) writes++;
        return (query as (...a: unknown[]) => unknown)(sql, ...rest);
      }) as typeof app.db.query;
    });
    afterAll(async () => {
      await screen.close();
      await app.close();
    });

    it('20 tickets: each delivered, and the hub wrote each one once (at enqueue)', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/lan/notifications',
          payload: { target: { device: 'pos-01' }, title: `T${i}`, body: 'ready', source: 'kitchen_desktop' },
        });
        expect(res.statusCode, res.body).toBe(202);
        ids.push((res.json() as { id: string }).id);
      }
      const got = await screen.waitForCount(20, 10_000);
      expect(got.map((n) => n.id)).toEqual(ids);
      expect(got.map((n) => n.seq)).toEqual(ids.map((_, i) => i + 1));
      await waitFor(async () => {
        const r = await app.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::uuid[]) AND status = 'delivered'`,
          [ids],
        );
        return r.rows[0]!.n === 20;
      }, 15_000);
      expect(writes).toBe(0);
    });
  });

  if (kind === 'postgres')
    describe('device heartbeats never wait on a locked device row [postgres]', () => {
      let tdb: TestDb;
      beforeAll(async () => {
        tdb = await createTestDb('postgres');
        await tdb.db.tx((q) =>
          createTenant(
            q,
            { id: 'acme', name: 'Acme', country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' },
            'test',
          ),
        );
        await tdb.db.query(
          `INSERT INTO lan_devices (tenant_id, id, role, name) VALUES ('acme', 'd1', 'kitchen', 'd1'), ('acme', 'd2', 'kitchen', 'd2')`,
        );
      });
      afterAll(() => tdb.cleanup());

      it('a row held by an inbox writer is skipped (the writer locks in no set order, so waiting could deadlock)', async () => {
        const holder = await PostgresDb.open(tdb.url!, 1);
        try {
          await holder.tx(async (q) => {
            await q.query(`SELECT 1 FROM lan_devices WHERE tenant_id = 'acme' AND id = 'd2' FOR UPDATE`);
            const t = performance.now();
            await touchSeen(tdb.db, [
              { tenantId: 'acme', deviceId: 'd1' },
              { tenantId: 'acme', deviceId: 'd2' },
            ]);
            expect(performance.now() - t).toBeLessThan(2_000);
          });
          const seen = await tdb.db.query<{ id: string; seen: boolean }>(
            `SELECT id, last_seen_at IS NOT NULL AS seen FROM lan_devices WHERE tenant_id = 'acme' ORDER BY id`,
          );
          expect(seen.rows).toEqual([
            { id: 'd1', seen: true },
            { id: 'd2', seen: false },
          ]);
        } finally {
          await holder.close();
        }
      });
    });
}
