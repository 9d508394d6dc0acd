import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { newToken, storeToken } from '../../src/store/tokens.ts';
import { PHONE_ID, metaSigned, postWhatsApp } from '../webhooks/helpers.ts';
import { buildInboundPayload } from '../fakes/whatsapp-cloud.ts';

/**
 * Broken object level authorization matrix: for every route that takes an id, tenant B's token on
 * tenant A's id answers exactly like a random id (404, same body), for every method. A new id route
 * without an entry here fails the test, so coverage cannot silently lapse.
 */
type Maker = (app: TestApp) => Promise<{ real: string; random: string }>;

const ID_SOURCES: Record<string, Maker | 'not_tenant_owned'> = {
  '/api/v1/outbox/:id': async (app) => ({
    real: await outboxIdOfA(app),
    random: '3f0d5e7c-8a4b-4c1d-9e2f-0a1b2c3d4e5f',
  }),
  '/api/v1/outbox/:id/audit': async (app) => ({
    real: await outboxIdOfA(app),
    random: '3f0d5e7c-8a4b-4c1d-9e2f-0a1b2c3d4e5f',
  }),
  '/api/v1/outbox/:id/retry': async (app) => ({
    real: await outboxIdOfA(app),
    random: '3f0d5e7c-8a4b-4c1d-9e2f-0a1b2c3d4e5f',
  }),
  '/api/v1/outbox/:id/cancel': async (app) => ({
    real: await outboxIdOfA(app),
    random: '3f0d5e7c-8a4b-4c1d-9e2f-0a1b2c3d4e5f',
  }),
  '/api/v1/lan/devices/:id': async (app) => ({ real: await deviceOfA(app), random: 'pos-nowhere-99' }),
  '/api/v1/lan/devices/:id/token': async (app) => ({ real: await deviceOfA(app), random: 'pos-nowhere-99' }),
  '/api/v1/inbound/:id': async (app) => ({
    real: await inboundIdOfA(app),
    random: '3f0d5e7c-8a4b-4c1d-9e2f-0a1b2c3d4e5f',
  }),
  '/api/v1/lan/prints/:outboxId/reprint': async (app) => ({
    real: await outboxIdOfA(app),
    random: '3f0d5e7c-8a4b-4c1d-9e2f-0a1b2c3d4e5f',
  }),
  '/api/v1/lan/printers/:id/held/:seq/:action': async (app) => ({
    real: await printerOfA(app),
    random: 'printer-nowhere-99',
  }),
  // Operator routes: the operator token spans tenants, and a tenant's token is refused (401) on them.
  '/api/v1/admin/tenants/:tenant/owner-phones': 'not_tenant_owned',
  '/api/v1/admin/tenants/:tenant/owner-phones/:phone': 'not_tenant_owned',
  '/api/v1/admin/whatsapp/numbers/:phoneNumberId': 'not_tenant_owned',
  '/api/v1/admin/tenants/:tenant/devices': 'not_tenant_owned',
  '/api/v1/admin/tenants/:tenant/devices/:device/token': 'not_tenant_owned',
  // Adapter ids are the same for every tenant: there is nothing of another tenant to reach.
  '/api/v1/providers/:id/verify': 'not_tenant_owned',
  // Authenticated by the path secret itself, not by a tenant token.
  '/telegram/webhook/:secret': 'not_tenant_owned',
};

let cachedOutbox: string | null = null;
async function outboxIdOfA(app: TestApp): Promise<string> {
  if (cachedOutbox) return cachedOutbox;
  const r = await app.as(app.ownerToken, {
    method: 'POST',
    url: '/api/v1/outbox',
    payload: { channel: 'whatsapp', target: '+994501234567', body: 'A only' },
  });
  cachedOutbox = (r.json() as { id: string }).id;
  return cachedOutbox;
}
async function deviceOfA(app: TestApp): Promise<string> {
  const list = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' });
  const existing = (list.json() as { devices?: { id: string }[] }).devices?.find(
    (d) => d.id === 'kitchen-a-01',
  );
  if (!existing) {
    const r = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/devices',
      payload: { id: 'kitchen-a-01', role: 'kitchen', name: 'Kitchen A' },
    });
    expect(r.statusCode, r.body).toBe(201);
  }
  return 'kitchen-a-01';
}
async function printerOfA(app: TestApp): Promise<string> {
  const list = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' });
  if (!(list.json() as { devices?: { id: string }[] }).devices?.some((d) => d.id === 'printer-a-01')) {
    const r = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/devices',
      payload: { id: 'printer-a-01', role: 'printer', name: 'Printer A' },
    });
    expect(r.statusCode, r.body).toBe(201);
  }
  return 'printer-a-01';
}
async function inboundIdOfA(app: TestApp): Promise<string> {
  const have = await app.db.query<{ id: string }>(
    `SELECT id::text AS id FROM inbound_messages WHERE tenant_id = 'acme' LIMIT 1`,
  );
  if (have.rows[0]) return have.rows[0].id;
  // A real signed WhatsApp delivery for tenant A's number, stored by the webhook processor.
  await app.db.query(
    `INSERT INTO tenant_whatsapp_numbers (phone_number_id, tenant_id) VALUES ($1, 'acme') ON CONFLICT DO NOTHING`,
    [PHONE_ID],
  );
  const { raw, signature } = metaSigned(
    buildInboundPayload({
      from: '994501234567',
      text: 'Salam, masa var?',
      timestamp: String(Math.floor(Date.now() / 1000)),
      phoneNumberId: PHONE_ID,
    }),
  );
  expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(200);
  return waitFor(
    async () =>
      (
        await app.db.query<{ id: string }>(
          `SELECT id::text AS id FROM inbound_messages WHERE tenant_id = 'acme' LIMIT 1`,
        )
      ).rows[0]?.id,
  );
}

for (const kind of await drivers()) {
  describe(`BOLA matrix: another tenant's id answers like a random id [${kind}]`, () => {
    let app: TestApp;
    let tokenB: string;
    beforeAll(async () => {
      app = await createTestApp(kind, { optIns: { whatsapp: false, email: true, in_app: true } });
      tokenB = newToken('owner');
      await app.db.tx(async (q) => {
        await createTenant(
          q,
          { id: 'bravo', name: 'Bravo', country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' },
          'test',
        );
        await storeToken(q, { token: tokenB, tenantId: 'bravo', role: 'owner', subject: 'bravo-owner' });
      });
      cachedOutbox = null;
    });
    afterAll(() => app.close());

    it('covers every route that takes an id', () => {
      const idRoutes = [
        ...new Set(app.rt.http!.collectedRoutes.filter((r) => r.url.includes('/:')).map((r) => r.url)),
      ];
      const unmapped = idRoutes.filter((u) => !(u in ID_SOURCES));
      expect(unmapped).toEqual([]);
    });

    it('every method of every id route', async () => {
      const routes = app.rt.http!.collectedRoutes.filter((r) => r.url.includes('/:'));
      let checked = 0;
      for (const r of routes) {
        const src = ID_SOURCES[r.url];
        if (!src || src === 'not_tenant_owned') continue;
        const { real, random } = await src(app);
        const call = (id: string) =>
          app.as(tokenB, {
            method: r.method as 'GET',
            // The route's own id is the one under test; other path parts get valid values.
            url: r.url
              .replace(/:(id|outboxId)\b/, encodeURIComponent(id))
              .replace(':seq', '1')
              .replace(':action', 'release'),
            ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }),
          });
        const a = await call(real);
        const b = await call(random);
        expect(a.statusCode, `${r.method} ${r.url}: ${a.body}`).toBe(404);
        expect(b.statusCode).toBe(404);
        const strip = (s: string) => ({
          ...(JSON.parse(s) as object),
          requestId: null,
          message: (JSON.parse(s) as { message: string }).message.replace(real, 'ID').replace(random, 'ID'),
        });
        expect(strip(a.body), `${r.method} ${r.url}`).toEqual(strip(b.body));
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(9);
      // Tenant A's resources are untouched.
      const own = await app.as(app.ownerToken, {
        method: 'GET',
        url: `/api/v1/outbox/${await outboxIdOfA(app)}`,
      });
      expect((own.json() as { status: string }).status).toBe('queued');
      await waitFor(
        async () =>
          (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' })).statusCode === 200,
      );
      const devices = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' })
      ).json() as { devices: { id: string }[] };
      expect(devices.devices.map((d) => d.id)).toContain('kitchen-a-01');
    });
  });
}
