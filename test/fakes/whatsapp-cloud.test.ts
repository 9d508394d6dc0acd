import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeFaultContract } from './fault-contract.ts';
import { inlineOpenApiSchema, loadYamlSpec, resolvePointer } from './specs.ts';
import { startWebhookSink, type WebhookSink } from './webhook-sink.ts';
import {
  SERVICE_WINDOW_MS,
  startWhatsAppFake,
  type WhatsAppErrorCode,
  type WhatsAppFake,
} from './whatsapp-cloud.ts';
import { validateWhatsAppMessage } from './whatsapp-schema.ts';
import {
  buildInboundPayload,
  buildStatusPayload,
  signWhatsAppBody,
  toMetaJson,
} from './whatsapp-webhooks.ts';

const TOKEN = 'EAAfaketoken123';
const PHONE_ID = '106540352242922';
const SECRET = 'fake-app-secret';
const WINDOW_DETAILS =
  'Message failed to send because more than 24 hours have passed since the customer last replied to this number.';

let clock = Date.UTC(2026, 0, 1);
let fake: WhatsAppFake;
let sink: WebhookSink;

beforeAll(async () => {
  sink = await startWebhookSink();
  fake = await startWhatsAppFake({
    accessToken: TOKEN,
    phoneNumberId: PHONE_ID,
    appSecret: SECRET,
    webhookUrl: sink.url,
    now: () => clock,
  });
});
afterAll(async () => {
  await fake.close();
  await sink.close();
});
beforeEach(() => fake.clearFault());

let seq = 0;
const freshWaId = () => `99450${String(1_000_000 + ++seq).slice(1)}`;
const textBody = (to: string, body = 'Your order is ready') => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to,
  type: 'text',
  text: { body, preview_url: false },
});
const templateBody = (to: string) => ({
  messaging_product: 'whatsapp',
  to,
  type: 'template',
  template: {
    name: 'order_ready',
    language: { code: 'az' },
    components: [{ type: 'body', parameters: [{ type: 'text', text: '42' }] }],
  },
});

interface GraphBody {
  error: { code: number; message: string; type: string; error_data: { details: string } };
  messages: { id: string }[];
  contacts: { input: string; wa_id: string }[];
}
interface StatusJson {
  id: string;
  status: string;
  errors?: { code: number; error_data?: { details: string } }[];
}
interface WebhookValue {
  metadata: { phone_number_id: string };
  statuses?: StatusJson[];
  messages?: { text: { body: string } }[];
}
/** The single change value of a webhook body, e.g. value.statuses[0]. */
function webhookValue(raw: string | Buffer): WebhookValue {
  const body = JSON.parse(raw.toString()) as { entry: { changes: { value: WebhookValue }[] }[] };
  const value = body.entry[0]?.changes[0]?.value;
  if (!value) throw new Error('webhook body without entry[0].changes[0].value');
  return value;
}
const firstStatus = (raw: string | Buffer): StatusJson | undefined => webhookValue(raw).statuses?.[0];
const wamidOf = (body: GraphBody): string => body.messages[0]?.id ?? '';

async function send(
  body: unknown,
  init: { token?: string; contentType?: string; target?: WhatsAppFake } = {},
) {
  const f = init.target ?? fake;
  const res = await fetch(f.messagesUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${init.token ?? TOKEN}`,
      'content-type': init.contentType ?? 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as GraphBody };
}

// The spec's examples use a Postman placeholder for the recipient; substitute a real number.
const SPEC = 'meta-whatsapp/business-messaging-api_v23.0.yaml';
function specExample(name: string): Record<string, unknown> {
  const doc = loadYamlSpec(SPEC);
  const ex = resolvePointer(
    doc,
    `#/paths/~1{Version}~1{Phone-Number-ID}~1messages/post/requestBody/content/application~1json/examples`,
  ) as Record<string, { value: unknown }>;
  const value = ex[name]?.value;
  if (!value) throw new Error(`no spec example ${name}`);
  return JSON.parse(JSON.stringify(value).replace('{{Recipient-Phone-Number}}', '16505551234')) as Record<
    string,
    unknown
  >;
}

/** Structure of a JSON value: keys and value types, ignoring the values themselves. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort()
        .map(([k, x]) => [k, shape(x)]),
    );
  return typeof v;
}

describe('whatsapp fake: spec golden fixtures', () => {
  it.each(['Send Text Message', 'Send Test Message', 'Send Message Template Text'])(
    'the relaxed schema accepts the spec example "%s" and the fake answers it like the spec example response',
    async (name) => {
      const example = specExample(name);
      expect(validateWhatsAppMessage(example)).toEqual({ kind: example.type });
      fake.openWindow('16505551234');
      const res = await send(example);
      expect(res.status).toBe(200);
      const doc = loadYamlSpec(SPEC);
      const okExample = resolvePointer(
        doc,
        '#/paths/~1{Version}~1{Phone-Number-ID}~1messages/post/responses/200/content/application~1json/examples/Example response/value',
      );
      expect(shape(res.body)).toEqual(shape(okExample));
      const schema = inlineOpenApiSchema(
        doc,
        resolvePointer(doc, '#/components/schemas/MessageResponsePayload'),
      );
      const validate = new Ajv2020({ strict: false }).compile(schema as object);
      expect(validate(res.body), JSON.stringify(validate.errors)).toBe(true);
      expect(res.body.contacts[0]).toEqual({ input: '16505551234', wa_id: '16505551234' });
      expect(wamidOf(res.body)).toMatch(/^wamid\.[A-Za-z0-9_=+/-]{20,}$/);
    },
  );

  it('status webhooks it builds validate against the spec WebhookPayload schema', () => {
    const doc = loadYamlSpec(SPEC);
    const schema = inlineOpenApiSchema(doc, resolvePointer(doc, '#/components/schemas/WebhookPayload'));
    const validate = new Ajv2020({ strict: false, logger: false }).compile(schema as object);
    for (const status of ['sent', 'delivered', 'read', 'failed'] as const) {
      const payload = buildStatusPayload({
        wamid: 'wamid.X',
        status,
        recipientId: '16505551234',
        timestamp: 1750857384,
        phoneNumberId: PHONE_ID,
      });
      expect(validate(payload), `${status}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('the inbound payload it builds equals the spec "Text Message" webhook example', () => {
    const doc = loadYamlSpec(SPEC);
    const example = resolvePointer(
      doc,
      '#/paths/~1whatsapp~1webhooks/post/requestBody/content/application~1json/examples/Text Message/value',
    );
    const built = buildInboundPayload({
      from: '16505551234',
      text: 'Does it come in another color?',
      id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      timestamp: 1749416383,
      profileName: 'Sheena Nelson',
      phoneNumberId: '106540352242922',
      wabaId: '419561257915477',
    });
    expect(built).toEqual(example);
  });
});

describe('whatsapp fake: phone-number fetch (GET /{version}/{phone-number-id}, the credential check)', () => {
  const phoneOp = () =>
    resolvePointer(loadYamlSpec(SPEC), '#/paths/~1{Version}~1{Phone-Number-ID}/get') as {
      responses: Record<
        string,
        { content: { 'application/json': { examples: Record<string, { value: unknown }> } } }
      >;
    };
  const specExampleOf = (status: string, name: string) =>
    phoneOp().responses[status]!.content['application/json'].examples[name]!.value as Record<string, unknown>;
  const getPhone = (path = `/v23.0/${PHONE_ID}`, token: string | null = TOKEN) =>
    fetch(`${fake.url}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
  const json = async (res: Response) => (await res.json()) as Record<string, unknown> & GraphBody;

  it('answers 200 PhoneNumberInfo with the default fields of the spec example; `fields` adds the extra ones', async () => {
    const doc = loadYamlSpec(SPEC);
    const validate = new Ajv2020({ strict: false }).compile(
      inlineOpenApiSchema(doc, resolvePointer(doc, '#/components/schemas/PhoneNumberInfo')) as object,
    );
    const res = await getPhone();
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(shape(body)).toEqual(shape(specExampleOf('200', 'default_response')));
    expect(body).toMatchObject({ id: PHONE_ID, quality_rating: 'GREEN' });
    const full = await json(await getPhone(`/v23.0/${PHONE_ID}?fields=name_status,code_verification_status`));
    expect(validate(full), JSON.stringify(validate.errors)).toBe(true);
    expect(shape(full)).toEqual(shape(specExampleOf('200', 'comprehensive_response')));
  });

  it('enforces the Bearer token (401 / 190) and refuses what the spec would: bad id, unknown number, unknown field', async () => {
    const bad = await getPhone(undefined, 'wrong');
    expect(bad.status).toBe(401);
    expect((await json(bad)).error).toMatchObject({ code: 190, type: 'OAuthException' });
    expect((await getPhone(undefined, null)).status).toBe(401);
    const notNumeric = await getPhone('/v23.0/abc');
    expect(notNumeric.status).toBe(400);
    expect((await json(notNumeric)).error).toMatchObject({ code: 100 });
    const unknown = await getPhone('/v23.0/999');
    expect(unknown.status).toBe(404);
    // The spec's 404 example: code 803, GraphMethodException.
    const expected = specExampleOf('404', 'phone_not_found').error as { code: number; type: string };
    expect((await json(unknown)).error).toMatchObject({ code: expected.code, type: expected.type });
    const field = await getPhone(`/v23.0/${PHONE_ID}?fields=access_token`);
    expect(field.status).toBe(400);
    expect((await json(field)).error).toMatchObject({ code: 100 });
  });
});

describe('whatsapp fake: refusals', () => {
  it('refuses a bad or missing Bearer token with 401 / code 190', async () => {
    const res = await send(templateBody(freshWaId()), { token: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 190, type: 'OAuthException', message: expect.any(String) });
    const none = await fetch(fake.messagesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(none.status).toBe(401);
    expect(fake.rejections.at(-1)).toMatchObject({ status: 401, code: 190, reason: 'missing token' });
  });

  it('refuses a non-JSON content type with 400 / code 100', async () => {
    const res = await send(templateBody(freshWaId()), { contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 100, message: '(#100) Invalid parameter' });
  });

  it.each([
    ['missing to', (to: string) => ({ ...textBody(to), to: undefined })],
    ['missing messaging_product', (to: string) => ({ ...templateBody(to), messaging_product: undefined })],
    ['letters in to', () => textBody('+1 650 CALL ME')],
    ['empty text body', (to: string) => textBody(to, '')],
    ['text body over 4096', (to: string) => textBody(to, 'x'.repeat(4097))],
    ['unknown top-level field', (to: string) => ({ ...textBody(to), priority: 'high' })],
    [
      'template without language',
      (to: string) => ({ ...templateBody(to), template: { name: 'order_ready' } }),
    ],
    ['unsupported type', (to: string) => ({ ...textBody(to), type: 'carrier_pigeon' })],
    [
      'biz_opaque_callback_data over 512',
      (to: string) => ({ ...templateBody(to), biz_opaque_callback_data: 'x'.repeat(513) }),
    ],
  ])('refuses %s with 400 / code 100', async (_name, make) => {
    const to = freshWaId();
    fake.openWindow(to);
    const before = fake.receipts.length;
    const res = await send(make(to));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 100,
      type: 'OAuthException',
      error_data: { messaging_product: 'whatsapp' },
    });
    expect(fake.receipts.length).toBe(before);
  });

  it('accepts a text body of exactly 4096 characters', async () => {
    const to = freshWaId();
    fake.openWindow(to);
    expect((await send(textBody(to, 'é'.repeat(4096)))).status).toBe(200);
  });
});

describe('whatsapp fake: 24-hour customer-service window', () => {
  it('refuses free text with no open window (400 / 131047 with the details text) but accepts a template', async () => {
    const to = freshWaId();
    const res = await send(textBody(to));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 131047,
      error_data: { messaging_product: 'whatsapp', details: WINDOW_DETAILS },
    });
    expect((await send(templateBody(to))).status).toBe(200);
  });

  it('opens with openWindow() and closes 24 h later on the injected clock', async () => {
    const to = freshWaId();
    fake.openWindow(to);
    expect((await send(textBody(to))).status).toBe(200);
    clock += SERVICE_WINDOW_MS - 1;
    expect((await send(textBody(to))).status).toBe(200);
    clock += 1;
    expect((await send(textBody(to))).body.error.code).toBe(131047);
  });

  it('opens when an inbound message is injected', async () => {
    const from = freshWaId();
    expect(fake.isWindowOpen(from)).toBe(false);
    const delivery = await fake.sendInbound({ from, text: 'salam' });
    expect(delivery.status).toBe(200);
    expect((await send(textBody(`+${from}`))).status).toBe(200);
    expect(fake.receipts.at(-1)?.body).toMatchObject({ waId: from, kind: 'text' });
  });
});

describe('whatsapp fake: forced errors', () => {
  it.each([
    [0, 401],
    [190, 401],
    [4, 400],
    [80007, 400],
    [100, 400],
    [130429, 400],
    [131026, 400],
    [131047, 400],
    [131048, 400],
    [131056, 400],
    [368, 403],
  ] as [WhatsAppErrorCode, number][])(
    'forceError(%i) answers HTTP %i in GraphAPIError shape',
    async (code, status) => {
      fake.forceError(code);
      const res = await send(templateBody(freshWaId()));
      expect(res.status).toBe(status);
      expect(res.body).toEqual({
        error: {
          message: expect.stringContaining(`(#${code})`),
          type: 'OAuthException',
          code,
          error_data: { messaging_product: 'whatsapp', details: expect.any(String) },
          fbtrace_id: expect.any(String),
        },
      });
      expect((await send(templateBody(freshWaId()))).status).toBe(200);
    },
  );

  it('lets a test override status and details (code 4 is disputed 400 vs 429)', async () => {
    fake.forceError(4, 1, { status: 429, details: 'slow down' });
    const res = await send(templateBody(freshWaId()));
    expect(res.status).toBe(429);
    expect(res.body.error.error_data.details).toBe('slow down');
  });
});

describe('whatsapp fake: webhooks', () => {
  it('posts a signed status webhook for an accepted message, with its biz_opaque_callback_data', async () => {
    const to = freshWaId();
    const sent = await send({ ...templateBody(to), biz_opaque_callback_data: 'outbox:42' });
    const wamid = wamidOf(sent.body);
    const before = sink.received.length;
    const delivery = await fake.sendStatus(wamid, 'delivered');
    expect(delivery.status).toBe(200);
    const got = sink.received[before];
    expect(got?.headers['x-hub-signature-256']).toBe(signWhatsAppBody(got?.rawBody ?? '', SECRET));
    const value = webhookValue(got?.rawBody ?? '{}');
    expect(value.statuses?.[0]).toEqual({
      id: wamid,
      status: 'delivered',
      timestamp: String(Math.floor(clock / 1000)),
      recipient_id: to,
      biz_opaque_callback_data: 'outbox:42',
    });
    expect(value.metadata.phone_number_id).toBe(PHONE_ID);
  });

  it('a failed status carries errors (default 131026, or the ones given)', async () => {
    const wamid = wamidOf((await send(templateBody(freshWaId()))).body);
    await fake.sendStatus(wamid, 'failed');
    await fake.sendStatus(wamid, 'failed', [
      { code: 131047, title: 'Re-engagement message', error_data: { details: WINDOW_DETAILS } },
    ]);
    const [a, b] = fake.webhookDeliveries.slice(-2).map((d) => firstStatus(d.rawBody));
    expect(a?.errors?.[0]?.code).toBe(131026);
    expect(b?.errors?.[0]).toMatchObject({ code: 131047, error_data: { details: WINDOW_DETAILS } });
  });

  it('escapes non-ASCII as \\uXXXX in the raw body like Meta, and signs those exact bytes', async () => {
    const text = 'Salam, necəsən? 😀';
    const delivery = await fake.sendInbound({ from: freshWaId(), text });
    const raw = sink.received.at(-1)?.rawBody.toString('latin1') ?? '';
    expect(raw).toBe(delivery.rawBody);
    expect(raw).toContain('nec\\u0259s\\u0259n? \\ud83d\\ude00');
    expect([...raw].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
    expect(webhookValue(raw).messages?.[0]?.text.body).toBe(text);
    expect(sink.received.at(-1)?.headers['x-hub-signature-256']).toBe(signWhatsAppBody(raw, SECRET));
    // Why receivers must use raw bytes: re-serialising the parsed body gives other bytes and another HMAC.
    expect(signWhatsAppBody(JSON.stringify(JSON.parse(raw)), SECRET)).not.toBe(signWhatsAppBody(raw, SECRET));
    expect(toMetaJson({ a: 'é' })).toBe('{"a":"\\u00e9"}');
  });

  it('autoStatuses posts sent → delivered → read for each accepted message', async () => {
    const own = await startWebhookSink();
    const auto = await startWhatsAppFake({
      accessToken: TOKEN,
      phoneNumberId: PHONE_ID,
      appSecret: SECRET,
      webhookUrl: own.url,
      autoStatuses: true,
      autoStatusDelayMs: 5,
    });
    try {
      const res = await send(templateBody(freshWaId()), { target: auto });
      const wamid = wamidOf(res.body);
      const got = await own.waitFor(3);
      const statuses = got.map((r) => firstStatus(r.rawBody));
      expect(statuses.map((s) => s?.status)).toEqual(['sent', 'delivered', 'read']);
      expect(statuses.every((s) => s?.id === wamid)).toBe(true);
    } finally {
      await auto.close();
      await own.close();
    }
  });

  it('runs the GET subscription handshake against the receiver', async () => {
    const receiver = http.createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const ok = q.get('hub.mode') === 'subscribe' && q.get('hub.verify_token') === 'right';
      res.writeHead(ok ? 200 : 403).end(ok ? (q.get('hub.challenge') ?? '') : 'no');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const f = await startWhatsAppFake({
      accessToken: TOKEN,
      phoneNumberId: PHONE_ID,
      appSecret: SECRET,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/wa`,
    });
    try {
      expect(await f.verifyWebhook('right')).toMatchObject({ status: 200, accepted: true });
      expect(await f.verifyWebhook('wrong')).toMatchObject({ status: 403, accepted: false });
    } finally {
      await f.close();
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});

describeFaultContract('whatsapp fake', {
  fake: () => fake,
  start: () => startWhatsAppFake({ accessToken: TOKEN, phoneNumberId: PHONE_ID, appSecret: SECRET }),
  send: (f, signal) =>
    fetch(f.messagesUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(templateBody(freshWaId())),
      ...(signal ? { signal } : {}),
    }),
  okStatus: 200,
  expect5xx: (res, body) => {
    expect(res.status).toBe(500);
    expect(body).toMatchObject({
      error: { code: 131000, type: 'OAuthException', message: expect.any(String) },
    });
  },
  expect429: (res, body) => {
    // Meta's throughput limit is HTTP 400 with code 130429 (PROVIDERS.md), not an HTTP 429.
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ error: { code: 130429, type: 'OAuthException' } });
  },
});
