import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/runtime.ts';
import { drivers } from '../helpers/db.ts';
import { CodeSweep, createOtpApp, FakeClock, type OtpApp } from './helpers.ts';

// QA test numbers with fixed ten-digit codes (the code sweep looks for these).
const TEST_NUMBERS = ['+994500000091', '+994500000092', '+994500000093', '+994500000094', '+994500000095'];
const CODES = ['7302958146', '5519730284', '8861402937', '2047193865', '6658201943'];
const OTP_TEST_NUMBERS = TEST_NUMBERS.map((n, i) => `${n}:${CODES[i]}`).join(',');
const SESSION_TTL_S = 3_600;

describe('QA test numbers are refused outside the QA runtime', () => {
  it('config will not load them in development or production', () => {
    for (const runtime of ['development', 'production']) {
      expect(() => testConfig({ MUPZA_RUNTIME: runtime, OTP_TEST_NUMBERS })).toThrow(/OTP_TEST_NUMBERS/);
    }
    expect(testConfig({ MUPZA_RUNTIME: 'qa', OTP_TEST_NUMBERS }).otpTestNumbers.get(TEST_NUMBERS[0]!)).toBe(
      CODES[0],
    );
  });
});

for (const kind of await drivers()) {
  describe(`owner sessions: QA test numbers, expiry, logout, bad input [${kind}]`, () => {
    const clock = new FakeClock();
    const sweep = new CodeSweep();
    let h: OtpApp;
    let ipN = 0;
    const ip = () => `192.0.2.${++ipN}`;
    beforeAll(async () => {
      // QA runtime, demo tenant seeded, and no OTP provider configured at all.
      h = await createOtpApp(kind, clock, {
        env: { OTP_TEST_NUMBERS, SESSION_TTL_S: String(SESSION_TTL_S) },
        seedDemo: true,
        sweep,
      });
      CODES.forEach((c) => sweep.use(c));
    });
    afterAll(async () => {
      await sweep.assertClean(h.app);
      await h.app.close();
    });

    /** Signs in on the demo tenant (the default) with test number i, on the fake clock. */
    async function signIn(i: number): Promise<{ token: string; expiresAt: string }> {
      const s = await h.post('/api/v1/auth/otp/start', { phone: TEST_NUMBERS[i] }, { remoteAddress: ip() });
      expect(s.statusCode, s.body).toBe(202);
      const c = await h.post('/api/v1/auth/otp/check', {
        verificationId: (s.json() as { verificationId: string }).verificationId,
        code: CODES[i],
      });
      expect(c.statusCode, c.body).toBe(200);
      return c.json() as { token: string; expiresAt: string };
    }
    const me = async (token: string) =>
      sweep.record(await h.app.as(token, { method: 'GET', url: '/api/v1/me' }));

    it('a test number signs in to the demo tenant as demo-owner with no provider at all: checked locally, the row mock_sent with a dry-run attempt', async () => {
      const s = await signIn(0);
      expect((await me(s.token)).json()).toMatchObject({
        tenant: { id: 'demo' },
        role: 'owner',
        subject: 'demo-owner',
      });
      const rows = await h.app.db.query<{ status: string; mode: string; attempts: number }>(
        `SELECT status, mode, attempts FROM outbox WHERE channel = 'otp_sms' AND target = $1`,
        [TEST_NUMBERS[0]],
      );
      expect(rows.rows).toEqual([{ status: 'mock_sent', mode: 'dry_run', attempts: 1 }]);
      const att = await h.app.db.query<{ request: { note: string } }>(
        `SELECT a.request FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE o.target = $1`,
        [TEST_NUMBERS[0]],
      );
      expect(att.rows[0]!.request.note).toMatch(/QA test number/);
    });

    it('a wrong code on a test number counts as a check like any other', async () => {
      const s = await h.post('/api/v1/auth/otp/start', { phone: TEST_NUMBERS[1] }, { remoteAddress: ip() });
      const id = (s.json() as { verificationId: string }).verificationId;
      const wrong = await h.post('/api/v1/auth/otp/check', {
        verificationId: id,
        code: sweep.wrong(CODES[1]!),
      });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toMatchObject({ error: 'otp_invalid_code', details: { checksLeft: 4 } });
      const right = await h.post('/api/v1/auth/otp/check', { verificationId: id, code: CODES[1] });
      expect(right.statusCode).toBe(200);
    });

    it('expiry: a session issued SESSION_TTL_S ago no longer works; one with a minute left does', async () => {
      const real = Date.now();
      clock.t = real - SESSION_TTL_S * 1000 - 1_000;
      const old = await signIn(2);
      expect(Date.parse(old.expiresAt)).toBeLessThan(real);
      const refused = await me(old.token);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: 'unauthorized' });

      clock.t = real - SESSION_TTL_S * 1000 + 60_000;
      const fresh = await signIn(3);
      expect((await me(fresh.token)).statusCode).toBe(200);
      clock.t = real;
    });

    it('logout revokes the calling session (204, audited); the token is then refused, and a second logout is 401', async () => {
      const s = await signIn(4);
      expect((await me(s.token)).statusCode).toBe(200);
      const out = sweep.record(await h.app.as(s.token, { method: 'POST', url: '/api/v1/auth/logout' }));
      expect(out.statusCode).toBe(204);
      expect(out.body).toBe('');
      expect((await me(s.token)).statusCode).toBe(401);
      const again = sweep.record(await h.app.as(s.token, { method: 'POST', url: '/api/v1/auth/logout' }));
      expect(again.statusCode).toBe(401);
      const audit = await h.app.db.query<{ action: string; to_status: string }>(
        `SELECT action, to_status FROM audit_events WHERE entity = 'session' AND action = 'revoked'`,
      );
      expect(audit.rows).toEqual([{ action: 'revoked', to_status: 'revoked' }]);
    });

    it('logout with a long-lived owner token is refused (409) and the token keeps working; without a token 401', async () => {
      const r = sweep.record(
        await h.app.as(h.app.ownerToken, { method: 'POST', url: '/api/v1/auth/logout' }),
      );
      expect(r.statusCode).toBe(409);
      expect(r.json()).toMatchObject({ error: 'conflict' });
      expect((await me(h.app.ownerToken)).statusCode).toBe(200);
      const anon = sweep.record(await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout' }));
      expect(anon.statusCode).toBe(401);
    });

    it('bad input on start and check: each a 4xx with a stable code, and no row written', async () => {
      const rowsBefore = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE channel = 'otp_sms'`,
      );
      const start: [unknown, number, string][] = [
        [{}, 400, 'validation_failed'],
        [{ phone: 994501234567 }, 400, 'validation_failed'],
        [{ phone: null }, 400, 'validation_failed'],
        [{ phone: '' }, 400, 'validation_failed'],
        [{ phone: 'call me' }, 400, 'invalid_phone'],
        [{ phone: '+994' }, 400, 'invalid_phone'],
        [{ phone: '+99450123' }, 400, 'invalid_phone'],
        [{ phone: '0501234567' }, 400, 'invalid_phone'],
        [{ phone: '+994501234567', tenant: 'Bad Tenant' }, 400, 'validation_failed'],
        [{ phone: '+994501234567', tenant: 42 }, 400, 'validation_failed'],
        [{ phone: '+994501234567', admin: true }, 400, 'validation_failed'],
        [{ phone: '+994501234567', tenant: 'no-such-tenant' }, 404, 'not_found'],
        [['+994501234567'], 400, 'validation_failed'],
        ['+994501234567', 415, 'unsupported_media_type'],
      ];
      for (const [body, status, code] of start) {
        const r = await h.post('/api/v1/auth/otp/start', body, { remoteAddress: ip() });
        expect(r.statusCode, JSON.stringify(body)).toBe(status);
        expect((r.json() as { error: string }).error, JSON.stringify(body)).toBe(code);
      }
      const id = '0b5e8f9a-3c1d-4e2f-8a7b-6c5d4e3f2a1b';
      const check: [unknown, number, string][] = [
        [{}, 400, 'validation_failed'],
        [{ verificationId: id }, 400, 'validation_failed'],
        [{ code: '123456' }, 400, 'validation_failed'],
        [{ verificationId: 'not-a-uuid', code: '123456' }, 400, 'validation_failed'],
        [{ verificationId: id, code: 123456 }, 400, 'validation_failed'],
        [{ verificationId: id, code: '12ab56' }, 400, 'validation_failed'],
        [{ verificationId: id, code: '123' }, 400, 'validation_failed'],
        [{ verificationId: id, code: '12345678901' }, 400, 'validation_failed'],
        [{ verificationId: id, code: '123456', tenant: 'Bad' }, 400, 'validation_failed'],
        [{ verificationId: id, code: '123456' }, 404, 'not_found'],
      ];
      for (const [body, status, code] of check) {
        const r = await h.post('/api/v1/auth/otp/check', body);
        expect(r.statusCode, JSON.stringify(body)).toBe(status);
        expect((r.json() as { error: string }).error, JSON.stringify(body)).toBe(code);
      }
      for (const url of ['/api/v1/auth/otp/start', '/api/v1/auth/otp/check']) {
        const broken = await h.post(url, '{"phone":', { headers: { 'content-type': 'application/json' } });
        expect(broken.statusCode).toBe(400);
        expect(broken.json()).toMatchObject({ error: 'bad_request' });
        const form = await h.post(url, 'phone=1', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(form.statusCode).toBe(415);
        expect(form.json()).toMatchObject({ error: 'unsupported_media_type' });
      }
      const rowsAfter = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE channel = 'otp_sms'`,
      );
      expect(rowsAfter.rows[0]!.n).toBe(rowsBefore.rows[0]!.n);
    });
  });
}
