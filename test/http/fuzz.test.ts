import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { CANARIES } from '../helpers/canary.ts';

/**
 * Property tests for every JSON endpoint: arbitrary JSON, __proto__/constructor keys, deep nesting,
 * huge strings, lone surrogates and huge numbers give only 2xx/4xx, no prototype pollution, and
 * each answer comes within 1 s. The seed is printed so a failure can be replayed (FC_SEED=…).
 */
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FC_RUNS ?? 150);

const nasty = fc.oneof(
  fc.jsonValue(),
  fc.constant({ __proto__: { polluted: true } }),
  fc.constant(
    JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
  ),
  fc.record({
    channel: fc.oneof(fc.constantFrom('email', 'whatsapp', 'telegram', 'in_app', 'otp_sms'), fc.string()),
    target: fc.string(),
    body: fc.string(),
  }),
  fc.record({
    channel: fc.constant('email'),
    target: fc.emailAddress(),
    body: fc.string({ unit: 'binary', maxLength: 300 }),
  }),
  fc
    .string({ unit: fc.constantFrom('\ud800', '\udfff', 'a', 'ə', '"', '\\'), maxLength: 50 })
    .map((s) => ({ channel: 'telegram', target: '123', body: s })),
  fc.constant({ channel: 'email', target: 'a@example.az', body: 'x'.repeat(200_000) }),
  fc.constant({ optIns: { whatsapp: Number.MAX_VALUE * 10 } }),
  fc.integer({ min: 1, max: 60 }).map((d) => JSON.parse('['.repeat(d) + ']'.repeat(d))),
  fc.constant({ messages: [{ __proto__: null, channel: 'email' }] }),
  fc.bigInt().map((b) => ({ limit: b.toString(), id: b.toString() })),
);

/** Raw bodies that are not JSON at all, or JSON with duplicate and prototype keys. */
const rawBodies = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constant('{"a":'),
  fc.constant('{"__proto__":{"admin":true},"channel":"email","target":"a@example.az","body":"x"}'),
  fc.constant('{"channel":"email","channel":"fax"}'),
  fc.constant('1e999999'),
  fc.constant('"\\ud800"'),
  fc.integer({ min: 100, max: 5_000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
);

const ENDPOINTS: { method: 'POST' | 'PUT'; url: string; auth: 'owner' | 'admin' | 'none' }[] = [
  { method: 'POST', url: '/api/v1/outbox', auth: 'owner' },
  { method: 'POST', url: '/api/v1/outbox/batch', auth: 'owner' },
  { method: 'PUT', url: '/api/v1/tenant/policy', auth: 'owner' },
  { method: 'POST', url: '/api/v1/admin/tenants', auth: 'admin' },
  { method: 'POST', url: '/api/v1/lan/devices', auth: 'owner' },
  { method: 'POST', url: '/api/v1/lan/notifications', auth: 'owner' },
  { method: 'POST', url: '/api/v1/telegram/links', auth: 'owner' },
  { method: 'POST', url: '/api/v1/auth/otp/start', auth: 'none' },
  { method: 'POST', url: '/api/v1/auth/otp/check', auth: 'none' },
  { method: 'POST', url: '/api/v1/auth/firebase', auth: 'none' },
];

describe(`fuzzing JSON endpoints (seed ${SEED}, ${RUNS} runs per endpoint and body kind) [pglite]`, () => {
  let app: TestApp;
  beforeAll(async () => {
    console.log(`fast-check seed: ${SEED} (replay with FC_SEED=${SEED})`);
    app = await createTestApp('pglite');
  });
  afterAll(() => app.close());

  for (const ep of ENDPOINTS) {
    it(`${ep.method} ${ep.url}`, async () => {
      const token =
        ep.auth === 'owner' ? app.ownerToken : ep.auth === 'admin' ? CANARIES.COMMS_ADMIN_TOKEN : null;
      const check = async (payload: string) => {
        const t0 = performance.now();
        const res = await app.inject({
          method: ep.method,
          url: ep.url,
          payload,
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        });
        const ms = performance.now() - t0;
        expect(res.statusCode, res.body).toBeLessThan(500);
        expect(ms).toBeLessThan(1_000);
        expect(() => JSON.parse(res.body)).not.toThrow();
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).admin).toBeUndefined();
      };
      await fc.assert(
        fc.asyncProperty(nasty, (v) => check(JSON.stringify(v) ?? 'null')),
        { seed: SEED, numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(rawBodies, (b) => check(b)),
        { seed: SEED, numRuns: Math.ceil(RUNS / 3) },
      );
    }, 120_000);
  }
});
