import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { createOtpApp, FakeClock, type OtpApp } from './helpers.ts';

/**
 * Arbitrary bodies on the public sign-in routes: never a 5xx other than the documented
 * otp_unavailable / firebase_keys_unavailable, always a JSON error with a registered code, no
 * prototype pollution. The seed is printed for replay (FC_SEED=…).
 */
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FC_RUNS ?? 60);

const phoneish = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^\+99450\d{7}$/),
  fc.constant('+994 50 123 45 67'),
  fc.integer(),
);
const bodies = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      phone: phoneish,
      tenant: fc.oneof(fc.constant('acme'), fc.string({ maxLength: 70 }), fc.constant(null)),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      verificationId: fc.oneof(fc.uuid(), fc.string()),
      code: fc.oneof(fc.stringMatching(/^\d{4,10}$/), fc.string(), fc.nat()),
      phone: phoneish,
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      idToken: fc.oneof(fc.string({ maxLength: 9_000 }), fc.constant('a.b.c'), fc.nat()),
      tenant: fc.string(),
    },
    { requiredKeys: [] },
  ),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "phone": "+994501234567"}')),
  fc.string({ unit: fc.constantFrom('\ud800', 'a', '+', '9'), maxLength: 30 }).map((phone) => ({ phone })),
);

describe(`fuzzing the sign-in routes (seed ${SEED}) [pglite]`, () => {
  const clock = new FakeClock();
  let h: OtpApp;
  beforeAll(async () => {
    console.log(`fast-check seed: ${SEED} (replay with FC_SEED=${SEED})`);
    // Generous limits: this is about input handling, not the fraud limits.
    h = await createOtpApp('pglite', clock, {
      env: {
        OTP_MAX_STARTS_PER_IP_HOUR: '10000',
        OTP_MAX_STARTS_PER_PHONE_10M: '100',
        OTP_RESEND_INTERVAL_S: '0',
        OTP_MAX_STARTS_PER_PHONE_DAY: '1000',
      },
    });
  });
  afterAll(() => h.app.close());

  for (const url of ['/api/v1/auth/otp/start', '/api/v1/auth/otp/check', '/api/v1/auth/firebase']) {
    it(`POST ${url}`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies, async (v) => {
          const res = await h.post(url, JSON.stringify(v) ?? 'null', {
            headers: { 'content-type': 'application/json' },
          });
          const body = JSON.parse(res.body) as { error?: string };
          if (res.statusCode >= 400) {
            expect(Object.keys(ERROR_CODES)).toContain(body.error);
            expect(ERROR_CODES[body.error as keyof typeof ERROR_CODES].status).toBe(res.statusCode);
          }
          if (res.statusCode >= 500)
            expect(['otp_unavailable', 'firebase_keys_unavailable']).toContain(body.error);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }),
        { seed: SEED, numRuns: RUNS },
      );
    }, 120_000);
  }
});
