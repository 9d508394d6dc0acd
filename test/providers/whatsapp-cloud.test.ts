import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providersModule } from '../../src/providers/module.ts';
import { OUTSIDE_WINDOW_REASON } from '../../src/providers/whatsapp-errors.ts';
import { recordInbound, windowState, WINDOW_MS } from '../../src/providers/whatsapp-window.ts';
import { startWhatsAppFake, type WhatsAppErrorCode, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, attemptsOf, cancelIfFailed, enqueue, settled, waitAfterAnswerMs } from './helpers.ts';

const PHONE_ID = '106540352242922';
let fake: WhatsAppFake;
let seq = 0;
const freshTo = () => `+99455${3_000_000 + ++seq}`;
const waIdOf = (e164: string) => e164.slice(1);

beforeAll(async () => {
  fake = await startWhatsAppFake({
    accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    phoneNumberId: PHONE_ID,
    appSecret: CANARIES.WHATSAPP_APP_SECRET!,
  });
});
afterAll(async () => {
  // Acceptance 1: no request of ours failed the fake's schema, content type, route or auth checks;
  // its other refusals are forced errors and Meta's own 131047 for a window we left closed on purpose.
  const unexpected = fake.rejections.filter(
    (r) => r.reason !== 'forced error' && r.reason !== 'outside 24h window' && !r.reason.startsWith('fault:'),
  );
  expect(unexpected, JSON.stringify(unexpected)).toEqual([]);
  expect(fake.receipts.length).toBeGreaterThan(4);
  await fake.close();
});

describe('deliberately wrong requests are refused by the fake', () => {
  it('a body without "to", a text/plain body and a missing Bearer token are refused', async () => {
    const other = await startWhatsAppFake({
      accessToken: 'tok-123456',
      phoneNumberId: PHONE_ID,
      appSecret: 'app-secret',
    });
    try {
      const post = (body: string, headers: Record<string, string>) =>
        fetch(other.messagesUrl, { method: 'POST', headers, body });
      const ok = { authorization: 'Bearer tok-123456', 'content-type': 'application/json' };
      const a = await post(
        JSON.stringify({
          messaging_product: 'whatsapp',
          type: 'template',
          template: { name: 'hello_world', language: { code: 'en_US' } },
        }),
        ok,
      );
      const b = await post('hello', { ...ok, 'content-type': 'text/plain' });
      const c = await post(
        JSON.stringify({
          messaging_product: 'whatsapp',
          to: '994501234567',
          type: 'template',
          template: { name: 'x', language: { code: 'az' } },
        }),
        { 'content-type': 'application/json' },
      );
      expect([a.status, b.status, c.status]).toEqual([400, 400, 401]);
      expect(other.receipts).toHaveLength(0);
      expect(other.rejections.map((r) => r.code)).toEqual([100, 100, 190]);
    } finally {
      await other.close();
    }
  });
});

for (const kind of await drivers()) {
  describe(`WhatsApp Cloud API through the real dispatcher [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind, {
        env: {
          ...LIVE_ENV,
          WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
          WHATSAPP_API_VERSION: 'v23.0',
          WHATSAPP_GRAPH_BASE_URL: fake.url,
        },
        modules: [providersModule()],
      });
    });
    afterAll(() => app.close());

    /** Opens the 24 h window on both sides: in our store (as the webhook would) and at "Meta". */
    const openWindow = async (to: string, at = new Date()) => {
      await recordInbound(app.db, 'acme', waIdOf(to), at);
      fake.openWindow(waIdOf(to), at.getTime());
    };

    it('a text inside the window is sent; the wamid is the provider id; Azerbaijani text arrives intact', async () => {
      const to = freshTo();
      await openWindow(to);
      const id = await enqueue(app, {
        channel: 'whatsapp',
        target: to,
        body: 'Sifariş hazırdır: ə ğ ı ö ş ü ç',
      });
      const s = await settled(app, id);
      expect(s, JSON.stringify(s)).toMatchObject({ status: 'sent', attempts: 1 });
      const receipt = fake.receipts.find((r) => r.body.waId === waIdOf(to))!;
      expect(s.provider_message_id).toBe(receipt.body.wamid);
      expect(s.provider_message_id).toMatch(/^wamid\./);
      expect(receipt.body.message).toMatchObject({
        type: 'text',
        to: waIdOf(to),
        text: { body: 'Sifariş hazırdır: ə ğ ı ö ş ü ç', preview_url: false },
        biz_opaque_callback_data: id,
      });
    });

    it('a template is sent without an open window', async () => {
      const to = freshTo();
      const id = await enqueue(app, {
        channel: 'whatsapp',
        target: to,
        template: 'daily_owner_report',
        data: { whatsappTemplate: 'daily_report', language: 'az', params: ['12', '340.50 ₼'] },
      });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'sent', attempts: 1 });
      const receipt = fake.receipts.find((r) => r.body.waId === waIdOf(to))!;
      expect(receipt.body.kind).toBe('template');
      expect(receipt.body.message.template).toEqual({
        name: 'daily_report',
        language: { code: 'az' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: '12' },
              { type: 'text', text: '340.50 ₼' },
            ],
          },
        ],
      });
    });

    it('free text to a recipient who never wrote is refused locally: dead, "template required", no HTTP call', async () => {
      const before = fake.requestCount;
      const id = await enqueue(app, { channel: 'whatsapp', target: freshTo(), body: 'Salam' });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'dead', attempts: 1, last_error_code: 'whatsapp_outside_window' });
      expect(s.reason).toContain(OUTSIDE_WINDOW_REASON);
      expect(fake.requestCount).toBe(before);
      const [a] = await attemptsOf(app, id);
      expect(a!.error_message).toContain('no call made');
    });

    it('free text 25 h after the last inbound message is refused locally too', async () => {
      const to = freshTo();
      await openWindow(to, new Date(Date.now() - WINDOW_MS - 60 * 60_000));
      const before = fake.requestCount;
      const id = await enqueue(app, { channel: 'whatsapp', target: to, body: 'Salam' });
      const s = await settled(app, id);
      expect(s.status).toBe('dead');
      expect(s.reason).toContain(OUTSIDE_WINDOW_REASON);
      expect(fake.requestCount).toBe(before);
    });

    it('131047 from Meta (our store thought the window open) → dead with "outside 24h window, template required"', async () => {
      const to = freshTo();
      await recordInbound(app.db, 'acme', waIdOf(to), new Date());
      const id = await enqueue(app, { channel: 'whatsapp', target: to, body: 'Salam' });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'dead', attempts: 1, last_error_code: 'whatsapp_131047' });
      expect(s.reason).toContain(OUTSIDE_WINDOW_REASON);
    });

    const table: [WhatsAppErrorCode, string, number?][] = [
      [0, 'dead'],
      [190, 'dead'],
      [100, 'dead'],
      [131026, 'dead'],
      [131047, 'dead'],
      [131048, 'dead'],
      [368, 'dead'],
      [4, 'failed', 60],
      [80007, 'failed', 60],
      [130429, 'failed', 2],
      [131056, 'failed', 6],
    ];
    // Rate-limited rows share one recipient: limits for two recipients at once make the dispatcher
    // pause the whole lane (an account-wide limit), which would stall the next test.
    const limitedTo = freshTo();
    for (const [code, status, waitS] of table) {
      it(`${code} → ${status} after 1 attempt${waitS ? `, next attempt ≥ ${waitS} s after the answer` : ''}`, async () => {
        const to = waitS ? limitedTo : freshTo();
        await openWindow(to);
        fake.forceError(code);
        const id = await enqueue(app, { channel: 'whatsapp', target: to, body: `code ${code}` });
        const s = await settled(app, id);
        expect(s).toMatchObject({ status, attempts: 1, last_error_code: `whatsapp_${code}` });
        expect(s.reason).toContain(String(code));
        if (waitS)
          expect(waitAfterAnswerMs(s, fake.rejections.at(-1)!.at)).toBeGreaterThanOrEqual(waitS * 1000);
        await cancelIfFailed(app, s);
      });
    }

    it('a 5xx from Meta is retried and then sent', async () => {
      const to = freshTo();
      await openWindow(to);
      fake.setFault({ kind: 'status5xx', times: 1 });
      const id = await enqueue(app, { channel: 'whatsapp', target: to, body: 'retry me' });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'failed', last_error_code: 'whatsapp_131000' });
      const done = await (async () => {
        for (let i = 0; i < 100; i++) {
          const r = await settled(app, id);
          if (r.status === 'sent') return r;
          await new Promise((res) => setTimeout(res, 50));
        }
        return settled(app, id);
      })();
      expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    });

    it('a 200 that is not Meta JSON (a proxy page) is retryable, not "sent" without an id', async () => {
      const to = freshTo();
      await openWindow(to);
      fake.setFault({ kind: 'malformed', times: 1 });
      const id = await enqueue(app, { channel: 'whatsapp', target: to, body: 'proxy' });
      const s = await settled(app, id);
      expect(s).toMatchObject({
        status: 'failed',
        attempts: 1,
        last_error_code: 'whatsapp_malformed_response',
        provider_message_id: null,
      });
      await cancelIfFailed(app, s);
    });

    it('recordInbound never moves a window back; windowState reports when it closes', async () => {
      const wa = '994553999999';
      const late = new Date();
      await recordInbound(app.db, 'acme', wa, late);
      await recordInbound(app.db, 'acme', `+${wa}`, new Date(late.getTime() - 5 * 60_000));
      const w = await windowState(app.db, 'acme', wa);
      expect(w.open).toBe(true);
      expect(w.lastInboundAt!.getTime()).toBe(late.getTime());
      expect(w.closesAt!.getTime()).toBe(late.getTime() + WINDOW_MS);
      expect((await windowState(app.db, 'acme', wa, new Date(late.getTime() + WINDOW_MS))).open).toBe(false);
    });
  });
}
