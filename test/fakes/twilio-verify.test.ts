import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAjv } from './ajv.ts';
import { startTwilioVerifyFake, type TwilioErrorCode, type TwilioVerifyFake } from './twilio-verify.ts';
import { twilioComponentSchema, twilioSpec, validateTwilioForm } from './twilio-verify-spec.ts';
import { resolvePointer } from './specs.ts';
import { describeFaultContract } from './fault-contract.ts';

const ACCOUNT = `AC${'1'.repeat(32)}`;
const TOKEN = 'fake-auth-token';
const SERVICE = `VA${'2'.repeat(32)}`;
const TO = '+994501234567';

let clock = Date.UTC(2026, 0, 1);
let fake: TwilioVerifyFake;

beforeAll(async () => {
  fake = await startTwilioVerifyFake({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    serviceSid: SERVICE,
    now: () => clock,
  });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.clearFault();
  // A fresh number per test keeps per-To state from leaking between tests.
  clock += 60 * 60_000;
});

let seq = 0;
const freshTo = () => `+99450${String(1_000_000 + ++seq).slice(1)}`;
const basic = (user = ACCOUNT, pass = TOKEN) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function post(
  path: string,
  form: Record<string, string>,
  init: { auth?: string; contentType?: string } = {},
) {
  const res = await fetch(`${fake.url}/v2/Services/${SERVICE}/${path}`, {
    method: 'POST',
    headers: {
      authorization: init.auth ?? basic(),
      'content-type': init.contentType ?? 'application/x-www-form-urlencoded',
    },
    body:
      init.contentType === 'application/json' ? JSON.stringify(form) : new URLSearchParams(form).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const create = (to: string, extra: Record<string, string> = {}) =>
  post('Verifications', { To: to, Channel: 'sms', ...extra });
const check = (form: Record<string, string>) => post('VerificationCheck', form);

const ajv = createAjv();
const verificationSchema = ajv.compile(twilioComponentSchema('verify.v2.service.verification'));
const checkSchema = ajv.compile(twilioComponentSchema('verify.v2.service.verification_check'));

describe('twilio verify fake: happy path', () => {
  it('creates a verification (201) whose JSON matches the spec schema', async () => {
    const to = freshTo();
    const res = await create(to);
    expect(res.status).toBe(201);
    expect(verificationSchema(res.body), JSON.stringify(verificationSchema.errors)).toBe(true);
    expect(res.body).toMatchObject({
      to,
      channel: 'sms',
      status: 'pending',
      valid: false,
      service_sid: SERVICE,
      account_sid: ACCOUNT,
      lookup: {},
      sna: null,
    });
    expect(res.body.sid).toMatch(/^VE[0-9a-f]{32}$/);
    expect(res.body.url).toBe(`${fake.url}/v2/Services/${SERVICE}/Verifications/${String(res.body.sid)}`);
    expect(fake.currentCode(to)).toMatch(/^\d{6}$/);
    expect(fake.receipts.at(-1)?.body).toMatchObject({
      operation: 'create',
      form: { To: to, Channel: 'sms' },
    });
  });

  it('approves the right code (200, spec-shaped), then answers 20404 for the soft-deleted verification', async () => {
    const to = freshTo();
    await create(to);
    const ok = await check({ To: to, Code: fake.currentCode(to) ?? '' });
    expect(ok.status).toBe(200);
    expect(checkSchema(ok.body), JSON.stringify(checkSchema.errors)).toBe(true);
    expect(ok.body).toMatchObject({ status: 'approved', valid: true, to });
    const again = await check({ To: to, Code: '123456' });
    expect(again.status).toBe(404);
    expect(again.body).toEqual({
      code: 20404,
      message: expect.any(String),
      more_info: 'https://www.twilio.com/docs/errors/20404',
      status: 404,
    });
  });

  it('checks by VerificationSid and fetches/cancels by Sid', async () => {
    const to = freshTo();
    const sid = String((await create(to)).body.sid);
    const fetched = await fetch(`${fake.url}/v2/Services/${SERVICE}/Verifications/${sid}`, {
      headers: { authorization: basic() },
    });
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toMatchObject({ sid, status: 'pending' });
    const wrong = await check({ VerificationSid: sid, Code: '0000' });
    expect(wrong.body).toMatchObject({ status: 'pending', valid: false });
    const canceled = await post(`Verifications/${sid}`, { Status: 'canceled' });
    expect(canceled.body).toMatchObject({ sid, status: 'canceled', valid: false });
    const gone = await fetch(`${fake.url}/v2/Services/${SERVICE}/Verifications/${sid}`, {
      headers: { authorization: basic() },
    });
    expect(gone.status).toBe(404);
  });

  it('accepts the request examples the spec itself gives (spec-level validation only)', () => {
    const doc = twilioSpec();
    for (const [op, path] of [
      ['create', '/v2/Services/{ServiceSid}/Verifications'],
      ['check', '/v2/Services/{ServiceSid}/VerificationCheck'],
      ['update', '/v2/Services/{ServiceSid}/Verifications/{Sid}'],
    ] as const) {
      const examples = resolvePointer(
        doc,
        `#/paths/${path.replace(/\//g, '~1')}/post/requestBody/content/application~1x-www-form-urlencoded/examples`,
      ) as Record<string, { value: Record<string, unknown> }>;
      expect(Object.keys(examples).length).toBeGreaterThan(0);
      for (const [name, ex] of Object.entries(examples)) {
        expect(validateTwilioForm(op, ex.value), `${op} example ${name}`).toBeUndefined();
      }
    }
  });
});

describe('twilio verify fake: refusals', () => {
  it('refuses bad or missing Basic credentials with 401 / 20003', async () => {
    const bad = await post('Verifications', { To: TO, Channel: 'sms' }, { auth: basic(ACCOUNT, 'nope') });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ code: 20003, status: 401 });
    const none = await fetch(`${fake.url}/v2/Services/${SERVICE}/Verifications`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(fake.rejections.at(-1)).toMatchObject({ status: 401, code: 20003, reason: 'missing credentials' });
  });

  it('refuses a JSON body (wrong content type) with 60200', async () => {
    const res = await post(
      'Verifications',
      { To: freshTo(), Channel: 'sms' },
      { contentType: 'application/json' },
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 60200, status: 400 });
  });

  it.each([
    ['missing To', 'Verifications', { Channel: 'sms' }, 'Invalid parameter: To'],
    ['missing Channel', 'Verifications', { To: TO }, 'Invalid parameter: Channel'],
    [
      'unknown field',
      'Verifications',
      { To: TO, Channel: 'sms', FriendlyName: 'x' },
      'Invalid parameter: FriendlyName',
    ],
    ['camelCase name', 'Verifications', { to: TO, Channel: 'sms' }, 'Invalid parameter: To'],
    ['To not E.164', 'Verifications', { To: '0501234567', Channel: 'sms' }, 'Invalid parameter: To'],
    ['bad Channel', 'Verifications', { To: TO, Channel: 'pigeon' }, 'Invalid parameter: Channel'],
    [
      'spec enum (RiskCheck)',
      'Verifications',
      { To: TO, Channel: 'sms', RiskCheck: 'maybe' },
      'Invalid parameter: RiskCheck',
    ],
    ['Code too short', 'VerificationCheck', { To: TO, Code: '123' }, 'Invalid parameter: Code'],
    ['Code too long', 'VerificationCheck', { To: TO, Code: '12345678901' }, 'Invalid parameter: Code'],
    ['neither To nor VerificationSid', 'VerificationCheck', { Code: '1234' }, 'Invalid parameter: To'],
    [
      'VerificationSid pattern',
      'VerificationCheck',
      { VerificationSid: 'VE1', Code: '1234' },
      'Invalid parameter: VerificationSid',
    ],
  ])('refuses %s with 400 / 60200', async (_name, path, form, message) => {
    const before = fake.sends;
    const res = await post(path, form as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 60200,
      message,
      more_info: 'https://www.twilio.com/docs/errors/60200',
      status: 400,
    });
    expect(fake.sends).toBe(before);
  });

  it('answers 20404 for an unknown ServiceSid', async () => {
    const res = await fetch(`${fake.url}/v2/Services/VA${'9'.repeat(32)}/Verifications`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: TO, Channel: 'sms' }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 20404 });
  });
});

describe('twilio verify fake: service fetch (GET /v2/Services/{Sid}, the credential check)', () => {
  // `uri-map` is Twilio's own format (an object of URLs; Ajv formats only apply to strings): the
  // links are checked by hand below instead.
  const serviceSchema = createAjv({ formats: { 'uri-map': true } }).compile(
    twilioComponentSchema('verify.v2.service'),
  );
  const getService = (sid = SERVICE, auth = basic()) =>
    fetch(`${fake.url}/v2/Services/${sid}`, { headers: { authorization: auth } });

  it('answers 200 with the spec schema and the same fields as the spec example', async () => {
    const res = await getService();
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(serviceSchema(body), JSON.stringify(serviceSchema.errors)).toBe(true);
    const example = resolvePointer(
      twilioSpec(),
      '#/paths/~1v2~1Services~1{Sid}/get/responses/200/content/application~1json/examples/fetchRecord/value',
    ) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(example).sort());
    expect(body).toMatchObject({
      sid: SERVICE,
      account_sid: ACCOUNT,
      friendly_name: 'MUPZAOS',
      code_length: 6,
    });
    expect(Object.keys(body.links as object).sort()).toEqual(Object.keys(example.links as object).sort());
    for (const link of Object.values(body.links as Record<string, string>))
      expect(link.startsWith(`${fake.url}/v2/Services/${SERVICE}/`)).toBe(true);
    expect(fake.receipts.at(-1)).toMatchObject({ method: 'GET', body: { operation: 'service' } });
  });

  it('enforces Basic auth (401 / 20003), and answers 20404 for another service', async () => {
    const rejected = fake.rejections.length;
    const bad = await getService(SERVICE, basic(ACCOUNT, 'nope'));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ code: 20003, status: 401 });
    const none = await fetch(`${fake.url}/v2/Services/${SERVICE}`);
    expect(none.status).toBe(401);
    const other = await getService(`VA${'9'.repeat(32)}`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 20404 });
    expect(fake.rejections.slice(rejected).map((r) => r.code)).toEqual([20003, 20003, 20404]);
  });
});

describe('twilio verify fake: state rules', () => {
  it('resends the same code while pending, and refuses the 6th send with 429 / 60203', async () => {
    const to = freshTo();
    const first = await create(to);
    const code = fake.currentCode(to);
    const sendsBefore = fake.sends;
    for (let i = 2; i <= 5; i++) {
      const again = await create(to);
      expect(again.status).toBe(201);
      expect(again.body.sid).toBe(first.body.sid);
      expect(fake.currentCode(to)).toBe(code);
      expect(again.body.send_code_attempts).toHaveLength(i);
    }
    const sixth = await create(to);
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({ code: 60203, status: 429 });
    expect(fake.sends).toBe(sendsBefore + 4);
  });

  it('expires after 10 minutes on the injected clock: no code, check 20404, a new create starts over', async () => {
    const to = freshTo();
    const first = await create(to);
    clock += 9 * 60_000 + 59_000;
    expect(fake.currentCode(to)).toBeDefined();
    clock += 1_000;
    expect(fake.currentCode(to)).toBeUndefined();
    expect(fake.verification(to)?.status).toBe('expired');
    const late = await check({ To: to, Code: '123456' });
    expect(late.status).toBe(404);
    expect(late.body.code).toBe(20404);
    const fresh = await create(to);
    expect(fresh.status).toBe(201);
    expect(fresh.body.sid).not.toBe(first.body.sid);
  });

  it('answers wrong codes with 200 pending/false; the 6th check gets 429 / 60202 and the verification dies', async () => {
    const to = freshTo();
    await create(to);
    const good = fake.currentCode(to) ?? '';
    const wrong = good === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const res = await check({ To: to, Code: wrong });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'pending', valid: false });
    }
    const sixth = await check({ To: to, Code: good });
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({ code: 60202, status: 429 });
    expect(fake.verification(to)?.status).toBe('max_attempts_reached');
    expect(fake.currentCode(to)).toBeUndefined();
    expect((await check({ To: to, Code: good })).body.code).toBe(60202);
    expect((await create(to)).body.code).toBe(60202);
    clock += 10 * 60_000;
    expect((await create(to)).status).toBe(201);
  });
});

describe('twilio verify fake: forced errors', () => {
  it.each([
    [60200, 400],
    [60212, 429],
    [60410, 403],
    [60605, 403],
    [20429, 429],
    [20500, 500],
  ] as [TwilioErrorCode, number][])(
    'forceError(%i) answers HTTP %i in Twilio shape, for `times` calls',
    async (code, status) => {
      fake.forceError(code, 2);
      for (let i = 0; i < 2; i++) {
        const res = await create(freshTo());
        expect(res.status).toBe(status);
        expect(res.body).toEqual({
          code,
          message: expect.any(String),
          more_info: `https://www.twilio.com/docs/errors/${code}`,
          status,
        });
        if (code === 20429) expect(res.headers.get('retry-after')).toBe('1');
      }
      expect((await create(freshTo())).status).toBe(201);
    },
  );

  it('lets a test pick the HTTP status and Retry-After of a forced error', async () => {
    fake.forceError(60410, 1, { status: 400, retryAfterSeconds: 7 });
    const res = await create(freshTo());
    expect(res.status).toBe(400);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body.code).toBe(60410);
  });
});

describeFaultContract('twilio verify fake', {
  fake: () => fake,
  start: () => startTwilioVerifyFake({ accountSid: ACCOUNT, authToken: TOKEN, serviceSid: SERVICE }),
  send: (f, signal) =>
    fetch(`${f.url}/v2/Services/${SERVICE}/Verifications`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: freshTo(), Channel: 'sms' }),
      ...(signal ? { signal } : {}),
    }),
  okStatus: 201,
  expect5xx: (res, body) => {
    expect(res.status).toBe(500);
    expect(body).toEqual({
      code: 20500,
      message: expect.any(String),
      more_info: 'https://www.twilio.com/docs/errors/20500',
      status: 500,
    });
  },
  expect429: (res, body, retryAfter) => {
    expect(res.status).toBe(429);
    expect(body).toEqual({
      code: 20429,
      message: 'Too many requests',
      more_info: 'https://www.twilio.com/docs/errors/20429',
      status: 429,
    });
    expect(res.headers.get('retry-after')).toBe(String(retryAfter));
    expect(res.headers.get('twilio-reached-rate-limit')).toBeTruthy();
  },
});
