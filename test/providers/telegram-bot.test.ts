import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { createTelegramAdapter, TELEGRAM_TEXT_LIMIT } from '../../src/providers/telegram-bot.ts';
import type { OutboxRow } from '../../src/store/rows.ts';
import { startTelegramFake, type TelegramErrorCode, type TelegramFake } from '../fakes/telegram-bot.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, testConfig, waitFor, type TestApp } from '../helpers/runtime.ts';
import {
  LIVE_ENV,
  attemptsOf,
  cancelIfFailed,
  enqueue,
  rowState,
  settled,
  waitAfterAnswerMs,
} from './helpers.ts';

let fake: TelegramFake;
let chat = 700_000_000;
const freshChat = () => String(++chat);

beforeAll(async () => {
  fake = await startTelegramFake({ token: CANARIES.TELEGRAM_BOT_TOKEN! });
});
afterAll(async () => {
  // Acceptance 1: nothing we sent failed the fake's api.json params, entity parsing, length, token or
  // route checks; its other refusals are forced errors, faults and its own flood control.
  const unexpected = fake.rejections.filter(
    (r) =>
      r.reason !== 'forced error' && !r.reason.startsWith('fault:') && !r.reason.startsWith('flood control'),
  );
  expect(unexpected, JSON.stringify(unexpected)).toEqual([]);
  expect(fake.receipts.length).toBeGreaterThan(4);
  await fake.close();
});

describe('deliberately wrong requests are refused by the fake', () => {
  it('a missing text, an unknown parameter, broken HTML and a text/plain body are each 400', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(fake.methodUrl('sendMessage'), { method: 'POST', headers: { 'content-type': type }, body });
    const before = fake.rejections.length;
    const res = await Promise.all([
      post(JSON.stringify({ chat_id: 1 })),
      post(JSON.stringify({ chat_id: 1, text: 'x', colour: 'red' })),
      post(JSON.stringify({ chat_id: 1, text: '<b>unclosed', parse_mode: 'HTML' })),
      post('chat_id=1&text=x', 'text/plain'),
    ]);
    expect(res.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    // Taken off the list so the afterAll check sees only what the adapter sent.
    expect(fake.rejections.splice(before).map((r) => r.code)).toEqual([400, 400, 400, 400]);
  });
});

describe('the adapter refuses an over-long text without a call', () => {
  it(`title + body over ${TELEGRAM_TEXT_LIMIT} characters → permanent telegram_text_too_long, no request`, async () => {
    const config = testConfig({ TELEGRAM_API_BASE_URL: fake.url }, { canaries: true });
    const adapter = createTelegramAdapter({ config, redactor: createRedactor(config.secrets) });
    const before = fake.requestCount;
    const row = {
      id: '00000000-0000-4000-8000-000000000001',
      tenant_id: 'acme',
      target: '1',
      title: 'T',
      body: 'x'.repeat(TELEGRAM_TEXT_LIMIT),
    } as OutboxRow;
    const r = await adapter.send(row, {
      signal: AbortSignal.timeout(1_000),
      tenant: { id: 'acme', locale: 'az', timezone: 'Asia/Baku', currency: 'AZN' },
    });
    expect(r).toMatchObject({ outcome: 'permanent', errorCode: 'telegram_text_too_long' });
    expect(fake.requestCount).toBe(before);
  });
});

for (const kind of await drivers()) {
  describe(`Telegram Bot API through the real dispatcher [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind, { env: { ...LIVE_ENV, TELEGRAM_API_BASE_URL: fake.url } });
    });
    afterAll(() => app.close());

    it('sendMessage with HTML escaping: markup in the text arrives as text; the provider id is chat:message_id', async () => {
      const to = freshChat();
      const body = 'Sifariş <b>#12</b> & "masa" <script>x</script> — ə ğ ı ö ş ü ç';
      const id = await enqueue(app, { channel: 'telegram', target: to, title: 'Mətbəx <hazır>', body });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'sent', attempts: 1 });
      const receipt = fake.receipts.find((r) => String(r.body.params.chat_id) === to)!;
      expect(receipt.body.params).toMatchObject({ parse_mode: 'HTML', chat_id: Number(to) });
      // After Telegram's entity parsing the visible text is exactly what the owner wrote.
      expect(receipt.body.message.text).toBe(`Mətbəx <hazır>\n${body}`);
      expect(s.provider_message_id).toBe(`${to}:${receipt.body.message.message_id}`);
    });

    it('text over 4096 characters is refused at enqueue (validation_failed), never split', async () => {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { channel: 'telegram', target: freshChat(), body: 'x'.repeat(4097) },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'validation_failed' });
    });

    it('429 with retry_after=3 → failed, and the next attempt starts no sooner than 3 s later, then sent', async () => {
      fake.forceError(429, 1, { retryAfter: 3 });
      const id = await enqueue(app, { channel: 'telegram', target: freshChat(), body: 'flood' });
      const first = await settled(app, id);
      expect(first).toMatchObject({ status: 'failed', attempts: 1, last_error_code: 'telegram_429' });
      const answeredAt = fake.rejections
        .filter((r) => r.reason === 'forced error' && r.code === 429)
        .at(-1)!.at;
      expect(waitAfterAnswerMs(first, answeredAt)).toBeGreaterThanOrEqual(3_000);
      const done = await waitFor(async () => {
        const r = await rowState(app, id);
        return r.status === 'sent' ? r : null;
      }, 8_000);
      expect(done.attempts).toBe(2);
      const [a1, a2] = await attemptsOf(app, id);
      const a2Start = (
        await app.db.query<{ started_at: Date }>(
          'SELECT started_at FROM outbox_attempts WHERE outbox_id = $1 AND attempt = 2',
          [id],
        )
      ).rows[0]!.started_at;
      expect(a1!.outcome).toBe('rate_limited');
      expect(a2!.outcome).toBe('sent');
      expect(new Date(a2Start).getTime() - answeredAt).toBeGreaterThanOrEqual(3_000);
    });

    it("the fake's own flood control (burst 3 per chat) is honoured: the 4th message waits retry_after and is sent", async () => {
      const to = freshChat();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++)
        ids.push(await enqueue(app, { channel: 'telegram', target: to, body: `burst ${i}` }));
      const rows = await waitFor(async () => {
        const r = await Promise.all(ids.map((id) => rowState(app, id)));
        return r.every((x) => x.status === 'sent') ? r : null;
      }, 8_000);
      expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
      expect(rows.some((r) => r.attempts === 2)).toBe(true);
    });

    const table: [TelegramErrorCode, string][] = [
      [400, 'dead'],
      [401, 'dead'],
      [403, 'blocked'],
      [500, 'failed'],
    ];
    for (const [code, status] of table) {
      it(`${code} → ${status} after 1 attempt`, async () => {
        fake.forceError(code);
        const id = await enqueue(app, { channel: 'telegram', target: freshChat(), body: `code ${code}` });
        const s = await settled(app, id);
        expect(s).toMatchObject({ status, attempts: 1, last_error_code: `telegram_${code}` });
        expect(s.reason).toContain(String(code));
        await cancelIfFailed(app, s);
      });
    }
  });
}
