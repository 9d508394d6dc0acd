import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { CLOSE } from '../../src/lan/protocol.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { newToken, storeToken } from '../../src/store/tokens.ts';
import {
  connectDevice,
  listenLan,
  rawSocket,
  registerDevice,
  rowStatus,
  type RecordingDevice,
} from './helpers.ts';

for (const kind of await drivers()) {
  describe(`tenant isolation and revocation [${kind}]`, () => {
    let app: TestApp;
    let ws: string;
    const betaOwner = newToken('owner');
    const open: RecordingDevice[] = [];
    beforeAll(async () => {
      app = await createTestApp(kind, { modules: [lanModule()] });
      await app.db.tx(async (q) => {
        await createTenant(
          q,
          {
            id: 'beta',
            name: 'Beta Çayxana',
            country: 'AZ',
            currency: 'AZN',
            timezone: 'Asia/Baku',
            locale: 'az',
            optIns: { in_app: true },
          },
          'test',
        );
        await storeToken(q, { token: betaOwner, tenantId: 'beta', role: 'owner', subject: 'beta-owner' });
      });
      ws = (await listenLan(app)).ws;
    });
    afterAll(async () => {
      for (const d of open) await d.close();
      await app.close();
    });

    it("a device of tenant A never receives tenant B's notifications, even with the same device id and role", async () => {
      const aToken = await registerDevice(app, app.ownerToken, 'kds-1', 'kitchen');
      const bToken = await registerDevice(app, betaOwner, 'kds-1', 'kitchen');
      const a = await connectDevice(ws, aToken);
      const b = await connectDevice(ws, bToken);
      open.push(a, b);
      expect(a.hello).toMatchObject({ tenant: 'acme', device: 'kds-1' });
      expect(b.hello).toMatchObject({ tenant: 'beta', device: 'kds-1' });

      const send = (token: string, target: Record<string, string>, title: string) =>
        app.as(token, {
          method: 'POST',
          url: '/api/v1/lan/notifications',
          payload: { target, title, body: title, source: 'test' },
        });
      const bIds: string[] = [];
      for (let i = 0; i < 5; i++)
        bIds.push(
          ((await send(betaOwner, { role: 'kitchen' }, `beta role ${i}`)).json() as { id: string }).id,
        );
      bIds.push(((await send(betaOwner, { device: 'kds-1' }, 'beta direct')).json() as { id: string }).id);
      const aId = ((await send(app.ownerToken, { device: 'kds-1' }, 'acme direct')).json() as { id: string })
        .id;

      await b.waitForCount(6);
      await a.waitForCount(1);
      for (const id of bIds) await waitFor(async () => (await rowStatus(app, betaOwner, id)) === 'delivered');
      await waitFor(async () => (await rowStatus(app, app.ownerToken, aId)) === 'delivered');
      expect(a.got.map((n) => n.title)).toEqual(['acme direct']);
      expect(b.got.map((n) => n.title)).toEqual([
        'beta role 0',
        'beta role 1',
        'beta role 2',
        'beta role 3',
        'beta role 4',
        'beta direct',
      ]);
      // The other tenant's rows are invisible too.
      expect(
        (await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${bIds[0]}` })).statusCode,
      ).toBe(404);
      const aList = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' })).json() as {
        devices: { id: string }[];
      };
      expect(aList.devices.map((d) => d.id)).toEqual(['kds-1']);
    });

    it("an owner cannot see or revoke another tenant's device", async () => {
      await registerDevice(app, betaOwner, 'printer-9', 'printer');
      const del = await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/printer-9' });
      expect(del.statusCode).toBe(404);
      expect((del.json() as { error: string }).error).toBe('not_found');
      const rot = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/devices/printer-9/token',
      });
      expect(rot.statusCode).toBe(404);
      // A role target of tenant A with no device of that role in A is blocked, not sent to B's printer.
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: { target: { role: 'printer' }, title: 'Print', body: 'Receipt', source: 'pos' },
      });
      const { id } = res.json() as { id: string };
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'blocked');
      const item = (await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` })).json() as {
        reason: string;
      };
      expect(item.reason).toContain('no registered device');
    });

    it('revoking a device closes its open socket within 5 s and its token stops working', async () => {
      const token = await registerDevice(app, app.ownerToken, 'waiter-7', 'waiter');
      const d = await connectDevice(ws, token);
      open.push(d);
      const t0 = Date.now();
      const del = await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/waiter-7' });
      expect(del.statusCode).toBe(204);
      await waitFor(async () => d.closes.length > 0, 5_000, 10);
      expect(d.closes[0]!.code).toBe(CLOSE.revoked);
      expect(d.closes[0]!.at - t0).toBeLessThan(5_000);
      const again = rawSocket(ws, { authorization: `Bearer ${token}` });
      expect((await again.refused).status).toBe(401);
      // Revoked devices are not listed and a second revoke is a 404.
      const list = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' })).json() as {
        devices: { id: string }[];
      };
      expect(list.devices.map((x) => x.id)).not.toContain('waiter-7');
      expect(
        (await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/waiter-7' })).statusCode,
      ).toBe(404);
      const audit = await app.db.query<{ action: string; actor: string }>(
        `SELECT action, actor FROM audit_events WHERE tenant_id = 'acme' AND entity = 'device' AND entity_id = 'waiter-7' ORDER BY id`,
      );
      expect(audit.rows.map((r) => r.action)).toEqual(['registered', 'revoked']);
    });

    it('a token revoked behind the hub (no NOTIFY) still loses its socket within 5 s', async () => {
      const token = await registerDevice(app, app.ownerToken, 'pos-3', 'pos');
      const d = await connectDevice(ws, token);
      open.push(d);
      const t0 = Date.now();
      await app.db.query(
        `UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = 'acme' AND role = 'device' AND subject = 'pos-3'`,
      );
      await waitFor(async () => d.closes.length > 0, 5_000, 10);
      expect(d.closes[0]!.code).toBe(CLOSE.revoked);
      expect(d.closes[0]!.at - t0).toBeLessThan(5_000);
    });

    it('rotating a token closes the old socket; a re-registered id keeps counting seqs and never replays dropped entries', async () => {
      const token = await registerDevice(app, app.ownerToken, 'kds-2', 'kitchen');
      const d = await connectDevice(ws, token);
      open.push(d);
      const rot = await app.as(app.ownerToken, { method: 'POST', url: '/api/v1/lan/devices/kds-2/token' });
      expect(rot.statusCode).toBe(201);
      await waitFor(async () => d.closes.length > 0, 5_000, 10);
      expect(d.closes[0]!.code).toBe(CLOSE.revoked);
      const fresh = (rot.json() as { token: string }).token;

      // Offline: one entry lands, then the device is revoked before it acks.
      const r1 = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: {
          target: { device: 'kds-2' },
          title: 'lost with the old device',
          body: 'x',
          source: 'test',
        },
      });
      const id1 = (r1.json() as { id: string }).id;
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id1)) === 'sent');
      expect(
        (await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/kds-2' })).statusCode,
      ).toBe(204);
      const stale = rawSocket(ws, { authorization: `Bearer ${fresh}` });
      expect((await stale.refused).status).toBe(401);

      const token2 = await registerDevice(app, app.ownerToken, 'kds-2', 'kitchen', 'Replacement screen');
      const r2 = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: { target: { device: 'kds-2' }, title: 'for the new screen', body: 'y', source: 'test' },
      });
      const id2 = (r2.json() as { id: string }).id;
      const d2 = await connectDevice(ws, token2, { after: 0 });
      open.push(d2);
      await d2.waitForCount(1);
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id2)) === 'delivered');
      expect(d2.got.map((n) => [n.seq, n.title])).toEqual([[2, 'for the new screen']]);
      // The revoked device never acked: that row stays `sent` (not every target got it).
      expect(await rowStatus(app, app.ownerToken, id1)).toBe('sent');
    });
  });
}
