import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TURNSTILE_ACTION } from '../../src/otp/turnstile.ts';
import { startTurnstileFake, type TurnstileFake } from '../fakes/turnstile-siteverify.ts';
import type { TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { testConfig } from '../helpers/runtime.ts';
import { addOwner, azPhone, createOtpApp, FakeClock, liveOtpEnv, startFake, type OtpApp } from './helpers.ts';

/**
 * Acceptance 6: Cloudflare Turnstile in front of OTP start. A refused start reaches neither the
 * rate limits nor Twilio (the Twilio fake's request count does not move); a valid token starts the
 * verification. The siteverify fake follows Cloudflare's documented request and answer.
 */
const HOST = 'owner.example.az';
const SITE_KEY = '0x4AAAAAAAtestSiteKey01';
const SECRET = CANARIES.CLOUDFLARE_TURNSTILE_SECRET_KEY!;

describe('Turnstile configuration', () => {
  it("Cloudflare's dummy keys are accepted in the QA runtime only", () => {
    for (const runtime of ['development', 'production']) {
      expect(() =>
        testConfig({ MUPZA_RUNTIME: runtime, CLOUDFLARE_TURNSTILE_SITE_KEY: '1x00000000000000000000AA' }),
      ).toThrow(/CLOUDFLARE_TURNSTILE_SITE_KEY/);
      expect(() =>
        testConfig({
          MUPZA_RUNTIME: runtime,
          CLOUDFLARE_TURNSTILE_SECRET_KEY: '1x0000000000000000000000000000000AA',
        }),
      ).toThrow(/CLOUDFLARE_TURNSTILE_SECRET_KEY/);
    }
    expect(
      testConfig({
        MUPZA_RUNTIME: 'qa',
        CLOUDFLARE_TURNSTILE_SITE_KEY: '1x00000000000000000000AA',
        CLOUDFLARE_TURNSTILE_SECRET_KEY: '1x0000000000000000000000000000000AA',
      }).runtime,
    ).toBe('qa');
  });
});

for (const kind of await drivers()) {
  describe(`Turnstile on OTP start [${kind}]`, () => {
    const clock = new FakeClock();
    let twilio: TwilioVerifyFake;
    let ts: TurnstileFake;
    let h: OtpApp;
    let ipN = 0;
    const ip = () => `198.51.100.${++ipN}`;
    const rateEvents = async () =>
      (await h.app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM otp_rate_events')).rows[0]!.n;

    beforeAll(async () => {
      twilio = await startFake(clock);
      ts = await startTurnstileFake({ secret: SECRET, now: clock.now });
      h = await createOtpApp(kind, clock, {
        env: liveOtpEnv(twilio, {
          CLOUDFLARE_TURNSTILE_SITE_KEY: SITE_KEY,
          CLOUDFLARE_TURNSTILE_SECRET_KEY: SECRET,
          CLOUDFLARE_TURNSTILE_VERIFY_URL: ts.verifyUrl,
          BACKEND_PUBLIC_URL: `https://${HOST}`,
          // Roomy for a loaded machine; siteverify's own deadline is a third of it (3 s).
          OTP_TIMEOUT_MS: '9000',
        }),
      });
      // A cold PGlite on a loaded machine can take most of a minute to open.
    }, 180_000);
    afterAll(async () => {
      await h.app.close();
      await twilio.close();
      await ts.close();
    });

    /** Starts for a fresh owner phone; asserts a refusal reached neither the limits nor Twilio. */
    async function refused(token: string | undefined, status: number, code: string, reason: string) {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const [calls, events] = [twilio.requestCount, await rateEvents()];
      const r = await h.post(
        '/api/v1/auth/otp/start',
        { tenant: 'acme', phone, ...(token === undefined ? {} : { turnstileToken: token }) },
        { remoteAddress: ip() },
      );
      expect(r.statusCode, r.body).toBe(status);
      expect(r.json()).toMatchObject({ error: code, details: { reason } });
      expect(twilio.requestCount).toBe(calls);
      expect(await rateEvents()).toBe(events);
      expect(r.body).not.toContain(SECRET);
      return r;
    }

    it('the public auth config names the site key (never the secret); the OTP SMS contract lists both names', async () => {
      const cfg = (await h.app.inject({ method: 'GET', url: '/api/v1/auth/config' })).json() as {
        turnstileSiteKey: string | null;
      };
      expect(cfg.turnstileSiteKey).toBe(SITE_KEY);
      const ready = (
        await h.app.as(h.app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })
      ).json() as { contracts: { id: string; env: { name: string; configured: boolean }[] }[] };
      const otp = ready.contracts.find((c) => c.id === 'otp_sms')!;
      expect(otp.env).toEqual(
        expect.arrayContaining([
          { name: 'CLOUDFLARE_TURNSTILE_SITE_KEY', configured: true, optional: true },
          { name: 'CLOUDFLARE_TURNSTILE_SECRET_KEY', configured: true, optional: true },
        ]),
      );
      expect(JSON.stringify(ready)).not.toContain(SECRET);
    });

    it('a valid token starts the verification; siteverify got the client address and an idempotency key', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const calls = twilio.requestCount;
      const token = ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION });
      const r = await h.post(
        '/api/v1/auth/otp/start',
        { tenant: 'acme', phone, turnstileToken: token },
        { remoteAddress: '198.51.100.200' },
      );
      expect(r.statusCode, r.body).toBe(202);
      expect(twilio.requestCount).toBe(calls + 1);
      const seen = ts.receipts.at(-1)!.body;
      expect(seen).toMatchObject({
        response: token,
        remoteip: '198.51.100.200',
        success: true,
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(seen.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('acceptance 6: no token, a spent token, a wrong hostname or action, an expired token are refused with 0 Twilio calls and nothing counted', async () => {
      const before = ts.requestCount;
      await refused(undefined, 403, 'turnstile_failed', 'turnstile_token_missing');
      // No token: siteverify is not even asked.
      expect(ts.requestCount).toBe(before);

      const token = ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION });
      const phone = azPhone();
      await addOwner(h.app, phone);
      expect(
        (
          await h.post(
            '/api/v1/auth/otp/start',
            { tenant: 'acme', phone, turnstileToken: token },
            { remoteAddress: ip() },
          )
        ).statusCode,
      ).toBe(202);
      await refused(token, 403, 'turnstile_failed', 'turnstile_token_spent');

      await refused(
        ts.issueToken({ hostname: 'evil.example', action: TURNSTILE_ACTION }),
        403,
        'turnstile_failed',
        'turnstile_wrong_hostname',
      );
      await refused(
        ts.issueToken({ hostname: HOST, action: 'newsletter' }),
        403,
        'turnstile_failed',
        'turnstile_wrong_action',
      );
      await refused('forged-token', 403, 'turnstile_failed', 'turnstile_rejected');

      const old = ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION });
      clock.advance(301_000);
      await refused(old, 403, 'turnstile_failed', 'turnstile_token_spent');
    });

    it('siteverify hanging, answering 5xx without JSON, or not JSON at all: 503 turnstile_unavailable at its own deadline, 0 Twilio calls', async () => {
      ts.setFault({ kind: 'hang', times: 1 });
      const t0 = performance.now();
      await refused(
        ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION }),
        503,
        'turnstile_unavailable',
        'turnstile_timeout',
      );
      // Its deadline is a third of OTP_TIMEOUT_MS (9000 ms), capped at 3 s: it answers well before OTP_TIMEOUT_MS.
      expect(performance.now() - t0).toBeLessThan(8_000);
      ts.setFault({ kind: 'malformed', times: 1 });
      await refused(
        ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION }),
        503,
        'turnstile_unavailable',
        'turnstile_bad_answer',
      );
      ts.setFault({ kind: 'reset', times: 1 });
      await refused(
        ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION }),
        503,
        'turnstile_unavailable',
        'turnstile_unreachable',
      );
      ts.clearFault();
    });

    it('an oversized or non-string token is a validation error, not a siteverify call', async () => {
      const before = ts.requestCount;
      for (const turnstileToken of ['x'.repeat(2049), 42, '']) {
        const r = await h.post(
          '/api/v1/auth/otp/start',
          { tenant: 'acme', phone: azPhone(), turnstileToken },
          { remoteAddress: ip() },
        );
        expect(r.statusCode).toBe(400);
        expect(r.json()).toMatchObject({ error: 'validation_failed' });
      }
      expect(ts.requestCount).toBe(before);
    });
  });

  describe(`Turnstile fails closed without its secret; dummy keys in QA [${kind}]`, () => {
    const clock = new FakeClock();
    let ts: TurnstileFake;
    beforeAll(async () => {
      ts = await startTurnstileFake({ secret: SECRET, now: clock.now });
    });
    afterAll(() => ts.close());

    it('site key set, secret missing: every start is refused 503 turnstile_unavailable, with 0 Twilio calls', async () => {
      const twilio = await startFake(clock);
      const h = await createOtpApp(kind, clock, {
        env: liveOtpEnv(twilio, {
          OTP_TIMEOUT_MS: '9000',
          CLOUDFLARE_TURNSTILE_SITE_KEY: SITE_KEY,
          CLOUDFLARE_TURNSTILE_VERIFY_URL: ts.verifyUrl,
          CLOUDFLARE_TURNSTILE_SECRET_KEY: '',
        }),
      });
      try {
        const phone = azPhone();
        await addOwner(h.app, phone);
        const r = await h.post('/api/v1/auth/otp/start', {
          tenant: 'acme',
          phone,
          turnstileToken: ts.issueToken({ hostname: HOST, action: TURNSTILE_ACTION }),
        });
        expect(r.statusCode).toBe(503);
        expect(r.json()).toMatchObject({
          error: 'turnstile_unavailable',
          details: { reason: 'turnstile_secret_missing' },
        });
        expect(twilio.requestCount).toBe(0);
      } finally {
        await h.app.close();
        await twilio.close();
      }
    });

    it("QA runtime with Cloudflare's dummy keys: the always-pass secret lets a QA test number start; the always-fail one refuses", async () => {
      const env = {
        OTP_TIMEOUT_MS: '9000',
        OTP_TEST_NUMBERS: '+994500000081:7302958146',
        CLOUDFLARE_TURNSTILE_SITE_KEY: '1x00000000000000000000AA',
        CLOUDFLARE_TURNSTILE_VERIFY_URL: ts.verifyUrl,
      };
      const pass = await createOtpApp(kind, clock, {
        env: { ...env, CLOUDFLARE_TURNSTILE_SECRET_KEY: '1x0000000000000000000000000000000AA' },
        seedDemo: true,
      });
      try {
        const r = await pass.post('/api/v1/auth/otp/start', {
          phone: '+994500000081',
          turnstileToken: 'XXXX.DUMMY.TOKEN.XXXX',
        });
        expect(r.statusCode, r.body).toBe(202);
      } finally {
        await pass.app.close();
      }
      const failing = await createOtpApp(kind, clock, {
        env: { ...env, CLOUDFLARE_TURNSTILE_SECRET_KEY: '2x0000000000000000000000000000000AA' },
        seedDemo: true,
      });
      try {
        const r = await failing.post('/api/v1/auth/otp/start', {
          phone: '+994500000081',
          turnstileToken: 'XXXX.DUMMY.TOKEN.XXXX',
        });
        expect(r.statusCode).toBe(403);
        expect(r.json()).toMatchObject({
          error: 'turnstile_failed',
          details: { reason: 'turnstile_rejected', errorCodes: ['invalid-input-response'] },
        });
      } finally {
        await failing.app.close();
      }
    });
  });
}
