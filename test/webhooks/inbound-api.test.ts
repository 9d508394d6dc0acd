import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/store/tenants.ts';
import { newToken, storeToken } from '../../src/store/tokens.ts';
import { mapPhoneNumber } from '../../src/webhooks/routing.ts';
import { buildInboundPayload, newWamid } from '../fakes/whatsapp-cloud.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { metaSigned, modulesWith, postWhatsApp, settledReceipts } from './helpers.ts';

const ACME_NUMBER = '111111111111111';
const BRAVO_NUMBER = '222222222222222';

interface Page {
  items: {
    id: string;
    provider: string;
    externalId: string;
    sender: string;
    senderName: string | null;
    type: string;
    text: string | null;
    receivedAt: string;
  }[];
  nextCursor: string | null;
}

for (const kind of await drivers()) {
  describe(`GET /api/v1/inbound [${kind}]`, () => {
    let app: TestApp;
    let bravoOwner: string;
    const acmeIds: string[] = [];
    beforeAll(async () => {
      app = await createTestApp(kind, { modules: modulesWith().modules });
      bravoOwner = newToken('owner');
      await app.db.tx(async (q) => {
        await createTenant(
          q,
          {
            id: 'bravo',
            name: 'Bravo Çay Evi',
            country: 'AZ',
            currency: 'AZN',
            timezone: 'Asia/Baku',
            locale: 'ru',
          },
          'test',
        );
        await storeToken(q, { token: bravoOwner, tenantId: 'bravo', role: 'owner', subject: 'bravo-owner' });
      });
      await mapPhoneNumber(app.db, ACME_NUMBER, 'acme');
      await mapPhoneNumber(app.db, BRAVO_NUMBER, 'bravo');
      // Five messages for acme, one for bravo, each its own delivery (distinct received_at).
      for (let i = 0; i < 6; i++) {
        const id = newWamid();
        const phoneNumberId = i === 3 ? BRAVO_NUMBER : ACME_NUMBER;
        if (phoneNumberId === ACME_NUMBER) acmeIds.push(id);
        const { raw, signature } = metaSigned(
          buildInboundPayload({
            phoneNumberId,
            from: `99450123400${i}`,
            text: `mesaj ${i}`,
            id,
            timestamp: 1_750_300_000 + i,
            profileName: `Müştəri ${i}`,
          }),
        );
        expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(200);
        await settledReceipts(app);
      }
    });
    afterAll(() => app.close());

    it('pages through the tenant’s messages newest first with a cursor; senders are masked in the list', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await app.as(app.ownerToken, {
          method: 'GET',
          url: `/api/v1/inbound?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        });
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json() as Page;
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i) => i.externalId));
        for (const i of page.items) {
          expect(i.sender).toMatch(/^\+994 ••• ••• 0\d$/);
          expect(i).toMatchObject({
            provider: 'whatsapp',
            type: 'text',
            senderName: expect.stringMatching(/^Müştəri \d$/),
          });
        }
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...acmeIds].reverse());
    });

    it('is tenant-scoped: bravo sees only its own message, and not acme’s by id', async () => {
      const page = (await app.as(bravoOwner, { method: 'GET', url: '/api/v1/inbound' })).json() as Page;
      expect(page.items.map((i) => i.text)).toEqual(['mesaj 3']);
      const acme = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/inbound?limit=1' })
      ).json() as Page;
      expect(
        (await app.as(bravoOwner, { method: 'GET', url: `/api/v1/inbound/${acme.items[0]!.id}` })).statusCode,
      ).toBe(404);
    });

    it('one message shows the sender and the provider payload', async () => {
      const acme = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/inbound?limit=1' })
      ).json() as Page;
      const res = await app.as(app.ownerToken, {
        method: 'GET',
        url: `/api/v1/inbound/${acme.items[0]!.id}`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        sender: '994501234005',
        text: 'mesaj 5',
        raw: { id: acmeIds[4], type: 'text', text: { body: 'mesaj 5' } },
      });
    });

    it('refuses bad input with 400 and other roles with 403', async () => {
      for (const url of [
        '/api/v1/inbound?cursor=bm90LWEtY3Vyc29y',
        '/api/v1/inbound?limit=0',
        '/api/v1/inbound?limit=201',
        '/api/v1/inbound?provider=sms',
        '/api/v1/inbound?colour=red',
        '/api/v1/inbound/not-a-uuid',
      ]) {
        const r = await app.as(app.ownerToken, { method: 'GET', url });
        expect(r.statusCode, url).toBe(400);
        expect(r.json(), url).toMatchObject({ error: 'validation_failed' });
      }
      const service = newToken('service');
      await storeToken(app.db, { token: service, tenantId: 'acme', role: 'service', subject: 'sync' });
      expect((await app.as(service, { method: 'GET', url: '/api/v1/inbound' })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/api/v1/inbound' })).statusCode).toBe(401);
    });
  });
}
