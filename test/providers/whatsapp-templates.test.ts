import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTemplateSend, countBodyParams, parseTemplatePage } from '../../src/core/wa-templates.ts';
import { providersModule } from '../../src/providers/module.ts';
import { startWhatsAppFake, type FakeTemplate, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, settled } from './helpers.ts';

/**
 * Template sync (issue 19, acceptance 4): the business account's templates come from the WhatsApp
 * fake's message_templates listing (overlay templates.list); a template send is checked against the
 * synced list at enqueue.
 */
const PHONE_ID = '106540352242922';
const WABA = '102290129340398';
let seq = 0;
const freshTo = () => `+99455${7_000_000 + ++seq}`;

const BASE: FakeTemplate[] = [
  {
    name: 'daily_report',
    language: 'az',
    category: 'UTILITY',
    status: 'APPROVED',
    body: 'Bu gün {{1}} sifariş, {{2}} satış.',
  },
  {
    name: 'promo_weekend',
    language: 'az',
    category: 'UTILITY',
    status: 'APPROVED',
    body: 'Həftəsonu {{1}} endirim!',
  },
  {
    name: 'new_menu',
    language: 'az',
    category: 'MARKETING',
    status: 'PENDING',
    body: 'Yeni menyu hazırdır.',
  },
  // Enough others that the listing takes two pages of 100.
  ...Array.from({ length: 110 }, (_, i): FakeTemplate => ({
    name: `filler_${i}`,
    language: 'en',
    category: 'UTILITY',
    status: 'APPROVED',
    body: 'Hi {{name}}, {{name}}!',
  })),
];

describe('template listing and the enqueue check (pure)', () => {
  it('counts distinct positional and named body placeholders', () => {
    expect(countBodyParams('Bu gün {{1}} sifariş, {{2}} satış, yenə {{1}}.')).toBe(2);
    expect(countBodyParams('Hi {{ first_name }}')).toBe(1);
    expect(countBodyParams('No placeholders {{}} {1}')).toBe(0);
  });
  it('reads name, language, category, status and body parameter count; skips malformed entries', () => {
    const page = parseTemplatePage({
      data: [
        {
          name: 'a',
          language: 'az',
          category: 'utility',
          status: 'approved',
          components: [
            { type: 'HEADER', text: '{{1}}' },
            { type: 'BODY', text: '{{1}} {{2}}' },
          ],
        },
        { name: 'b', language: 'az', category: 'MARKETING', status: 'APPROVED' },
        { name: 42, language: 'az', category: 'UTILITY', status: 'APPROVED' },
        { name: 'c', language: 'a z', category: 'UTILITY', status: 'APPROVED' },
        null,
      ],
      paging: { next: 'https://graph.facebook.com/v23.0/1/message_templates?after=x' },
    });
    expect(page.templates).toEqual([
      { name: 'a', language: 'az', category: 'UTILITY', status: 'APPROVED', bodyParams: 2 },
      { name: 'b', language: 'az', category: 'MARKETING', status: 'APPROVED', bodyParams: 0 },
    ]);
    expect(page.next).toMatch(/after=x$/);
    expect(parseTemplatePage('not json').templates).toEqual([]);
  });
  it('refuses unknown, unapproved and wrong-arity sends with stable codes', () => {
    const t = { name: 'a', language: 'az', category: 'UTILITY', status: 'APPROVED', bodyParams: 2 };
    expect(checkTemplateSend(null, 'a', 'az', 2)?.code).toBe('whatsapp_template_unknown');
    expect(checkTemplateSend({ ...t, status: 'REJECTED' }, 'a', 'az', 2)?.code).toBe(
      'whatsapp_template_not_approved',
    );
    expect(checkTemplateSend(t, 'a', 'az', 1)?.code).toBe('whatsapp_template_params');
    expect(checkTemplateSend(t, 'a', 'az', 2)).toBeNull();
  });
});

let fake: WhatsAppFake;
beforeAll(async () => {
  fake = await startWhatsAppFake({
    accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    phoneNumberId: PHONE_ID,
    appSecret: CANARIES.WHATSAPP_APP_SECRET!,
    wabaId: WABA,
  });
});
afterAll(async () => {
  await fake.close();
});

for (const kind of await drivers()) {
  describe(`WhatsApp template sync against the fake [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      fake.setTemplates(BASE);
      app = await createTestApp(kind, {
        env: {
          ...LIVE_ENV,
          WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
          WHATSAPP_API_VERSION: 'v23.0',
          WHATSAPP_GRAPH_BASE_URL: fake.url,
          WHATSAPP_BUSINESS_ACCOUNT_ID: WABA,
        },
        modules: [providersModule()],
      });
    }, 180_000);
    afterAll(() => app.close());

    const sync = () => app.as(app.ownerToken, { method: 'POST', url: '/api/v1/whatsapp/templates/sync' });
    const list = async () =>
      (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/whatsapp/templates' })).json() as {
        configured: boolean;
        items: { name: string; language: string; category: string; status: string; bodyParams: number }[];
      };
    const send = (whatsappTemplate: string, params: string[], language = 'az') =>
      app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: {
          channel: 'whatsapp',
          target: freshTo(),
          template: 'daily_owner_report',
          data: { whatsappTemplate, language, params },
        },
      });

    it('POST sync lists every page of the account; GET shows the list', async () => {
      const res = await sync();
      expect(res.statusCode, res.body).toBe(200);
      const l = await list();
      expect(l.configured).toBe(true);
      expect(l.items).toHaveLength(BASE.length);
      expect(l.items.find((t) => t.name === 'daily_report')).toMatchObject({
        language: 'az',
        category: 'UTILITY',
        status: 'APPROVED',
        bodyParams: 2,
      });
      expect(l.items.find((t) => t.name === 'filler_0')).toMatchObject({ bodyParams: 1 });
    });

    it('enqueue: unknown, not approved and wrong parameter count → 400 with the reason; a matching send is accepted and sent', async () => {
      const unknown = await send('no_such_template', []);
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({ error: 'whatsapp_template_unknown' });
      const wrongLang = await send('daily_report', ['1', '2'], 'ru');
      expect(wrongLang.json()).toMatchObject({ error: 'whatsapp_template_unknown' });
      const pending = await send('new_menu', []);
      expect(pending.statusCode).toBe(400);
      expect(pending.json()).toMatchObject({ error: 'whatsapp_template_not_approved' });
      expect((pending.json() as { message: string }).message).toContain('PENDING');
      const arity = await send('daily_report', ['12']);
      expect(arity.statusCode).toBe(400);
      expect(arity.json()).toMatchObject({ error: 'whatsapp_template_params' });
      expect((arity.json() as { message: string }).message).toMatch(/takes 2 body parameter\(s\); 1 given/);
      const ok = await send('daily_report', ['12', '340.50 ₼']);
      expect(ok.statusCode, ok.body).toBeLessThan(300);
      const s = await settled(app, (ok.json() as { id: string }).id);
      expect(s.status, s.reason ?? '').toBe('sent');
    });

    it('a re-categorised template shows its new category after the next sync; a template gone from Meta is gone', async () => {
      fake.setTemplates(
        BASE.filter((t) => t.name !== 'filler_5').map((t) =>
          t.name === 'promo_weekend' ? { ...t, category: 'MARKETING' } : t,
        ),
      );
      expect((await sync()).statusCode).toBe(200);
      const l = await list();
      expect(l.items.find((t) => t.name === 'promo_weekend')?.category).toBe('MARKETING');
      expect(l.items.some((t) => t.name === 'filler_5')).toBe(false);
    });

    it('Meta answers 5xx: 502 whatsapp_template_sync_failed, the synced list unchanged', async () => {
      const before = (await list()).items.length;
      fake.setFault({ kind: 'status5xx', times: 1 });
      const res = await sync();
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ error: 'whatsapp_template_sync_failed' });
      expect((await list()).items.length).toBe(before);
    });
  });
}
