import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeFaultContract } from './fault-contract.ts';
import {
  buildStartUpdate,
  startTelegramFake,
  type TelegramErrorCode,
  type TelegramFake,
} from './telegram-bot.ts';
import { parseTelegramText } from './telegram-text.ts';
import { startWebhookSink, type WebhookSink } from './webhook-sink.ts';

const TOKEN = `123456789:${'x'.repeat(35)}`;

let clock = Date.UTC(2026, 0, 1);
let fake: TelegramFake;
let sink: WebhookSink;

beforeAll(async () => {
  sink = await startWebhookSink();
  fake = await startTelegramFake({ token: TOKEN, now: () => clock, allowHttpWebhook: true });
});
afterAll(async () => {
  await fake.close();
  await sink.close();
});
beforeEach(() => {
  fake.clearFault();
  // Refill every bucket between tests.
  clock += 60_000;
});

let seq = 0;
const freshChat = () => 700_000_000 + ++seq;

interface Envelope {
  ok: boolean;
  result?: Record<string, unknown> & {
    message_id?: number;
    text?: string;
    chat?: { id: number; type: string };
  };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

async function call(
  method: string,
  params: Record<string, unknown>,
  as: 'json' | 'form' = 'json',
  token = TOKEN,
) {
  const body =
    as === 'json'
      ? JSON.stringify(params)
      : new URLSearchParams(
          Object.entries(params).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
        ).toString();
  const res = await fetch(`${fake.url}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': as === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' },
    body,
  });
  return { status: res.status, body: (await res.json()) as Envelope };
}
const sendText = (chat: number | string, text: string, extra: Record<string, unknown> = {}) =>
  call('sendMessage', { chat_id: chat, text, ...extra });

describe('telegram fake: accepted calls', () => {
  it('sendMessage (JSON) answers {ok, result: Message} with incrementing message_id and records a receipt', async () => {
    const chat = freshChat();
    const a = await sendText(chat, 'Salam');
    const b = await sendText(chat, 'Again');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      ok: true,
      result: {
        message_id: 1,
        date: Math.floor(clock / 1000),
        chat: { id: chat, type: 'private' },
        text: 'Salam',
        from: { id: 123456789, is_bot: true, first_name: expect.any(String), username: expect.any(String) },
      },
    });
    expect(b.body.result?.message_id).toBe(2);
    expect(fake.receipts.at(-1)?.body).toMatchObject({
      method: 'sendMessage',
      params: { chat_id: chat, text: 'Again' },
    });
  });

  it('accepts form-encoded bodies and normalises their strings to API types', async () => {
    const chat = freshChat();
    const res = await call(
      'sendMessage',
      { chat_id: chat, text: 'hi', disable_notification: true, reply_parameters: { message_id: 5 } },
      'form',
    );
    expect(res.status).toBe(200);
    expect(fake.receipts.at(-1)?.body.params).toEqual({
      chat_id: chat,
      text: 'hi',
      disable_notification: true,
      reply_parameters: { message_id: 5 },
    });
  });

  it('serves getMe over GET, with a case-insensitive method name', async () => {
    const res = await fetch(`${fake.url}/bot${TOKEN}/GETME`);
    expect(await res.json()).toMatchObject({ ok: true, result: { id: 123456789, is_bot: true } });
  });

  it('counts HTML text after entity parsing: tags stripped, entities decoded', async () => {
    const visible = 'a<b>&"'.padEnd(4096, 'x');
    const html = `<b>a</b>&lt;<i>b</i>&gt;&amp;&quot;${'x'.repeat(4096 - 6)}`;
    const res = await sendText(freshChat(), html, { parse_mode: 'HTML' });
    expect(res.status).toBe(200);
    expect(res.body.result?.text).toBe(visible);
  });
});

describe('telegram fake: refusals', () => {
  it('answers 401 Unauthorized for an unknown token', async () => {
    const res = await call('sendMessage', { chat_id: 1, text: 'x' }, 'json', '42:wrong');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });
  });

  it.each([
    ['missing text', { chat_id: 1 }, 'Bad Request: message text is empty'],
    ['missing chat_id', { text: 'x' }, 'Bad Request: chat_id is empty'],
    ['unknown parameter', { chat_id: 1, text: 'x', colour: 'red' }, 'Bad Request: unknown parameter'],
    [
      'wrong type (Boolean)',
      { chat_id: 1, text: 'x', disable_notification: 'yes' },
      'Bad Request: field "disable_notification" must be of type Boolean',
    ],
    [
      'wrong type (object)',
      { chat_id: 1, text: 'x', reply_parameters: 7 },
      'Bad Request: field "reply_parameters" must be of type ReplyParameters',
    ],
    [
      'wrong type (Integer|String)',
      { chat_id: true, text: 'x' },
      'Bad Request: field "chat_id" must be of type Integer or String',
    ],
    ['whitespace-only text', { chat_id: 1, text: '   ' }, 'Bad Request: message text is empty'],
    ['text over 4096', { chat_id: 1, text: 'x'.repeat(4097) }, 'Bad Request: message is too long'],
    [
      'HTML over 4096 after parsing',
      { chat_id: 1, text: `<b>${'x'.repeat(4097)}</b>`, parse_mode: 'HTML' },
      'Bad Request: message is too long',
    ],
  ])('refuses %s with 400', async (_name, params, description) => {
    const before = fake.receipts.length;
    const res = await call('sendMessage', params);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, error_code: 400, description });
    expect(fake.receipts.length).toBe(before);
  });

  it.each([
    ['an unclosed tag', '<b>bold'],
    ['an unsupported tag', '<script>x</script>'],
    ['a misnested end tag', '<b><i>x</b></i>'],
    ['a span without the spoiler class', '<span>x</span>'],
    ['a link without href', '<a>x</a>'],
  ])('refuses HTML with %s: "can\'t parse entities"', async (_name, text) => {
    const res = await sendText(freshChat(), text, { parse_mode: 'HTML' });
    expect(res.status).toBe(400);
    expect(res.body.description).toMatch(/^Bad Request: can't parse entities: /);
  });

  it('refuses an unsupported content type', async () => {
    const res = await fetch(fake.methodUrl('sendMessage'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ok: false, error_code: 400 });
  });

  it('answers 404 for a method the fake does not serve', async () => {
    const res = await call('sendPhoto', { chat_id: 1, photo: 'x' });
    expect(res.body).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
  });
});

describe('telegram fake: HTML parser', () => {
  it('accepts every supported tag and decodes entities', () => {
    const html =
      '<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>' +
      '<span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler><a href="https://x.az/?a=1&amp;b=2">l</a>' +
      '<code>c</code><pre><code class="language-ts">x</code></pre><blockquote>q</blockquote>&lt;&gt;&amp;&quot;&#97;&#x62;';
    expect(parseTelegramText(html, 'HTML')).toEqual({ ok: true, text: 'bsieunskdptlcxq<>&"ab' });
  });
});

describe('telegram fake: flood control', () => {
  it('gives 429 with parameters.retry_after after a per-chat burst, and recovers when the clock moves', async () => {
    const chat = freshChat();
    for (let i = 0; i < 3; i++) expect((await sendText(chat, `m${i}`)).status).toBe(200);
    const limited = await sendText(chat, 'one too many');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    expect((await sendText(freshChat(), 'other chats are fine')).status).toBe(200);
    clock += 1000;
    expect((await sendText(chat, 'after waiting')).status).toBe(200);
  });

  it('limits globally across chats (configurable rates)', async () => {
    const f = await startTelegramFake({
      token: TOKEN,
      now: () => clock,
      globalPerSecond: 5,
      perChatBurst: 10,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(f.methodUrl('sendMessage'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: 1000 + i, text: 'x' }),
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await f.close();
    }
  });
});

describe('telegram fake: webhooks', () => {
  it('stores url + secret, reports them in getWebhookInfo, and posts Updates with the secret header', async () => {
    const set = await call('setWebhook', {
      url: sink.url,
      secret_token: 'Abc_123-xyz',
      allowed_updates: ['message'],
    });
    expect(set.body).toMatchObject({ ok: true, result: true });
    const info = await call('getWebhookInfo', {});
    expect(info.body.result).toEqual({
      url: sink.url,
      has_custom_certificate: false,
      pending_update_count: 0,
      allowed_updates: ['message'],
    });
    const update = buildStartUpdate({ updateId: 123456789, chatId: 111222333, text: '/start ord_42_tbl7' });
    const delivery = await fake.postUpdate(update);
    expect(delivery.status).toBe(200);
    const got = sink.received.at(-1);
    expect(got?.headers['x-telegram-bot-api-secret-token']).toBe('Abc_123-xyz');
    expect(JSON.parse(got?.rawBody.toString() ?? '')).toEqual(update);
  });

  it('buildStartUpdate gives the Update shape of PROVIDERS.md section 4', () => {
    expect(
      buildStartUpdate({
        updateId: 123456789,
        chatId: 111222333,
        text: '/start ord_42_tbl7',
        date: 1750000000,
      }),
    ).toEqual({
      update_id: 123456789,
      message: {
        message_id: 1,
        date: 1750000000,
        from: { id: 111222333, is_bot: false, first_name: 'Ana', language_code: 'en' },
        chat: { id: 111222333, type: 'private', first_name: 'Ana' },
        text: '/start ord_42_tbl7',
        entities: [{ offset: 0, length: 6, type: 'bot_command' }],
      },
    });
  });

  it.each([
    ['a space', 'has space'],
    ['a dot', 'a.b'],
    ['non-ASCII', 'səs'],
    ['257 characters', 'x'.repeat(257)],
    ['an empty string', ''],
  ])('refuses a secret_token with %s (400)', async (_name, secret) => {
    const res = await call('setWebhook', { url: 'https://example.test/hook', secret_token: secret });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ ok: false, error_code: 400 });
  });

  it('requires url, and HTTPS unless allowHttpWebhook allows http://127.0.0.1', async () => {
    expect((await call('setWebhook', {})).status).toBe(400);
    expect((await call('setWebhook', { url: 'http://example.test/hook' })).body.description).toBe(
      'Bad Request: bad webhook: An HTTPS URL must be provided for webhook',
    );
    const strict = await startTelegramFake({ token: TOKEN });
    try {
      const res = await fetch(strict.methodUrl('setWebhook'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
      });
      expect(res.status).toBe(400);
    } finally {
      await strict.close();
    }
  });

  it('deleteWebhook clears the registration', async () => {
    await call('setWebhook', { url: 'https://example.test/hook' });
    expect((await call('deleteWebhook', {})).body).toMatchObject({ ok: true, result: true });
    expect((await call('getWebhookInfo', {})).body.result?.url).toBe('');
    await expect(fake.postUpdate({ update_id: 1 })).rejects.toThrow(/no webhook/);
  });
});

describe('telegram fake: forced errors', () => {
  it.each([
    [400, 'Bad Request: chat not found'],
    [401, 'Unauthorized'],
    [403, 'Forbidden: bot was blocked by the user'],
  ] as [TelegramErrorCode, string][])(
    'forceError(%i) answers the envelope once',
    async (code, description) => {
      fake.forceError(code);
      const res = await sendText(freshChat(), 'x');
      expect(res.status).toBe(code);
      expect(res.body).toEqual({ ok: false, error_code: code, description });
      expect((await sendText(freshChat(), 'x')).status).toBe(200);
    },
  );

  it('forceError(429) carries parameters.retry_after', async () => {
    fake.forceError(429, 2, { retryAfter: 34 });
    for (let i = 0; i < 2; i++) {
      const res = await sendText(freshChat(), 'x');
      expect(res.body).toEqual({
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 34',
        parameters: { retry_after: 34 },
      });
    }
  });
});

describeFaultContract('telegram fake', {
  fake: () => fake,
  start: () => startTelegramFake({ token: TOKEN }),
  send: (f, signal) =>
    fetch(f.methodUrl('sendMessage'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: freshChat(), text: 'x' }),
      ...(signal ? { signal } : {}),
    }),
  okStatus: 200,
  expect5xx: (res, body) => {
    expect(res.status).toBe(500);
    expect(body).toEqual({ ok: false, error_code: 500, description: 'Internal Server Error' });
  },
  expect429: (res, body, retryAfter) => {
    expect(res.status).toBe(429);
    expect(body).toEqual({
      ok: false,
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    });
  },
});
