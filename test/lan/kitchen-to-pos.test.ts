import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SAMPLE_TEXT } from '../../src/app/demo-seed.ts';
import { drivers } from '../helpers/db.ts';
import { CANARIES } from '../helpers/canary.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { connectDevice, listenLan, registerDevice, rowStatus, type RecordingDevice } from './helpers.ts';

// The demo owner's token is COMMS_BOOTSTRAP_OWNER_TOKEN (a canary in tests: it must never echo back).
const DEMO_OWNER = CANARIES.COMMS_BOOTSTRAP_OWNER_TOKEN!;

for (const kind of await drivers()) {
  describe(`kitchen ticket ready → pos-desktop-01, end to end [${kind}]`, () => {
    let app: TestApp;
    let url: { http: string; ws: string };
    const devices: RecordingDevice[] = [];
    beforeAll(async () => {
      app = await createTestApp(kind, { modules: [lanModule()], seedDemo: true });
      url = await listenLan(app);
    });
    afterAll(async () => {
      for (const d of devices) await d.close();
      await app.close();
    });

    it('the seeded ticket waits in the inbox of the offline POS, reaches it over a real socket, and the ack makes the row delivered', async () => {
      const list = (
        await app.as(DEMO_OWNER, { method: 'GET', url: '/api/v1/outbox?channel=in_app' })
      ).json() as {
        items: { id: string; title: string }[];
      };
      const ticket = list.items.find((i) => i.title === DEMO_SAMPLE_TEXT.az.kitchenTitle);
      expect(ticket).toBeDefined();
      // Offline device: the row is in its durable inbox (`sent`), waiting for the ack.
      await waitFor(async () => (await rowStatus(app, DEMO_OWNER, ticket!.id)) === 'sent');

      const before = (await app.as(DEMO_OWNER, { method: 'GET', url: '/api/v1/lan/devices' })).json() as {
        devices: { id: string; role: string; name: string; connected: boolean; lastSeenAt: string | null }[];
      };
      expect(before.devices).toEqual([
        expect.objectContaining({
          id: 'pos-desktop-01',
          role: 'pos',
          name: 'POS desktop 01',
          connected: false,
          lastSeenAt: null,
        }),
      ]);

      // The seeded device's token was never shown: the owner issues one.
      const rot = await app.as(DEMO_OWNER, {
        method: 'POST',
        url: '/api/v1/lan/devices/pos-desktop-01/token',
      });
      expect(rot.statusCode, rot.body).toBe(201);
      const { token } = rot.json() as { token: string };

      const pos = await connectDevice(url.ws, token);
      devices.push(pos);
      expect(pos.hello).toMatchObject({
        device: 'pos-desktop-01',
        role: 'pos',
        tenant: 'demo',
        lastSeq: 1,
        ackedSeq: 0,
      });
      const [n] = await pos.waitForCount(1);
      expect(n).toMatchObject({
        type: 'notification',
        seq: 1,
        id: ticket!.id,
        title: DEMO_SAMPLE_TEXT.az.kitchenTitle,
        source: 'kitchen_desktop',
        target: 'pos-desktop-01',
      });
      expect(n!.body).toBe(DEMO_SAMPLE_TEXT.az.kitchenBody);
      expect(Date.parse(n!.createdAt)).not.toBeNaN();

      await waitFor(async () => (await rowStatus(app, DEMO_OWNER, ticket!.id)) === 'delivered');
      const audit = (
        await app.as(DEMO_OWNER, { method: 'GET', url: `/api/v1/outbox/${ticket!.id}/audit` })
      ).json() as {
        events: { actor: string; action: string; from: string | null; to: string }[];
      };
      expect(audit.events.map((e) => [e.from, e.to])).toEqual([
        [null, 'ready'],
        ['ready', 'sending'],
        ['sending', 'sent'],
        ['sent', 'delivered'],
      ]);
      expect(audit.events.at(-1)).toMatchObject({ actor: 'device:pos-desktop-01', action: 'device_ack' });

      const after = (await app.as(DEMO_OWNER, { method: 'GET', url: '/api/v1/lan/devices' })).json() as {
        devices: { id: string; connected: boolean; lastSeenAt: string | null }[];
      };
      expect(after.devices[0]).toMatchObject({ id: 'pos-desktop-01', connected: true });
      expect(after.devices[0]!.lastSeenAt).not.toBeNull();
    });

    it('a kitchen screen posts "ticket ready" with its own device token and the connected POS shows it at once', async () => {
      const pos = devices[0]!;
      const kitchenToken = await registerDevice(app, DEMO_OWNER, 'kitchen-01', 'kitchen', 'Kitchen line 1');
      const t0 = Date.now();
      const res = await app.as(kitchenToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: {
          target: { device: 'pos-desktop-01' },
          title: 'Kitchen ticket ready',
          body: 'Ticket A-18 is ready for table 3.',
          source: 'kitchen_desktop',
        },
      });
      expect(res.statusCode, res.body).toBe(202);
      const { id, status } = res.json() as { id: string; status: string };
      expect(status).toBe('ready');
      const got = await pos.waitForCount(2, 5_000);
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(got[1]).toMatchObject({
        seq: 2,
        id,
        title: 'Kitchen ticket ready',
        body: 'Ticket A-18 is ready for table 3.',
      });
      await waitFor(async () => (await rowStatus(app, DEMO_OWNER, id)) === 'delivered');
      const audit = (
        await app.as(DEMO_OWNER, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as {
        events: { actor: string; to: string }[];
      };
      expect(audit.events[0]).toMatchObject({ actor: 'device:kitchen-01', to: 'ready' });
      expect(audit.events.at(-1)).toMatchObject({ actor: 'device:pos-desktop-01', to: 'delivered' });
    });

    it('POST /api/v1/outbox with channel in_app and a role target reaches every screen of that role', async () => {
      const pos = devices[0]!;
      const t2 = await registerDevice(app, DEMO_OWNER, 'pos-tablet-02', 'pos');
      const second = await connectDevice(url.ws, t2);
      devices.push(second);
      const res = await app.as(DEMO_OWNER, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: {
          channel: 'in_app',
          target: 'role:pos',
          title: 'Shift note',
          body: 'Table 9 has a birthday.',
          source: 'owner_panel',
        },
      });
      expect(res.statusCode, res.body).toBe(202);
      const { id } = res.json() as { id: string };
      await pos.waitForCount(3);
      await second.waitForCount(1);
      expect(pos.got[2]).toMatchObject({ id, seq: 3, target: 'role:pos' });
      expect(second.got[0]).toMatchObject({ id, seq: 1, target: 'role:pos' });
      // Delivered only when both screens acked.
      await waitFor(async () => (await rowStatus(app, DEMO_OWNER, id)) === 'delivered');
      const audit = (
        await app.as(DEMO_OWNER, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as {
        events: { to: string; detail: { devicesAcked?: number } | null }[];
      };
      expect(audit.events.at(-1)).toMatchObject({ to: 'delivered', detail: { devicesAcked: 2 } });
    });
  });
}
