import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommands } from '../../src/cli/commands.ts';
import type { TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { CANARIES } from '../helpers/canary.ts';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { testConfig } from '../helpers/runtime.ts';
import {
  addOwner,
  azPhone,
  CodeSweep,
  createOtpApp,
  FakeClock,
  liveOtpEnv,
  startFake,
  type OtpApp,
} from './helpers.ts';

// Small limits so each one can be reached in a few requests; resends are not spaced here.
const LIMITS = {
  OTP_RESEND_INTERVAL_S: '0',
  OTP_MAX_STARTS_PER_PHONE_10M: '3',
  OTP_MAX_STARTS_PER_TENANT_DAY: '4',
  OTP_MAX_STARTS_PER_DIAL_CODE_DAY: '9',
};

for (const kind of await drivers()) {
  describe(`OTP limits are counted in the database: across processes, restarts, tenants and dial codes [${kind}]`, () => {
    const clock = new FakeClock();
    const sweep = new CodeSweep();
    let fake: TwilioVerifyFake;
    let tdb: TestDb;
    let a: OtpApp;
    let b: OtpApp;
    let ipN = 0;
    const ip = () => `198.18.0.${++ipN}`;
    const env = () => liveOtpEnv(fake, LIMITS);

    beforeAll(async () => {
      fake = await startFake(clock);
      tdb = await createTestDb(kind);
      // Two runtimes on one database: two processes as far as the limits can tell.
      a = await createOtpApp(kind, clock, { env: env(), testDb: tdb, sweep });
      b = await createOtpApp(kind, clock, { env: env(), testDb: tdb, sweep });
    });
    afterAll(async () => {
      await sweep.assertClean(a.app);
      await a.app.close();
      await b.app.close();
      await tdb.cleanup();
      await fake.close();
    });

    it('10 simultaneous starts for one phone, through two processes: exactly 3 pass, 3 provider calls; still refused after a restart', async () => {
      const phone = azPhone();
      await addOwner(a.app, phone);
      const calls = fake.requestCount;
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).post('/api/v1/auth/otp/start', { tenant: 'acme', phone }, { remoteAddress: ip() }),
        ),
      );
      const codes = answers.map((r) => r.statusCode).sort();
      expect(codes.filter((c) => c === 202)).toHaveLength(3);
      expect(codes.filter((c) => c === 429)).toHaveLength(7);
      for (const r of answers.filter((x) => x.statusCode === 429)) {
        expect(r.json()).toMatchObject({ error: 'rate_limited', details: { limit: 'phone_10m' } });
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      expect(fake.requestCount - calls).toBe(3);

      // "Restart": one process goes away, a new one starts on the same database.
      await b.app.close();
      b = await createOtpApp(kind, clock, { env: env(), testDb: tdb, sweep });
      const after = await b.post(
        '/api/v1/auth/otp/start',
        { tenant: 'acme', phone },
        { remoteAddress: ip() },
      );
      expect(after.statusCode).toBe(429);
      expect(fake.requestCount - calls).toBe(3);

      // Once the first start leaves the 10-minute window, one more may go.
      clock.advance(10 * 60_000 + 1_000);
      const later = await b.post(
        '/api/v1/auth/otp/start',
        { tenant: 'acme', phone },
        { remoteAddress: ip() },
      );
      expect(later.statusCode, later.body).toBe(202);
      expect(fake.requestCount - calls).toBe(4);
    });

    it('a tenant created by the operator with ownerPhone: its owner signs in by OTP; the tenant stops at 4 starts a day', async () => {
      const ownerPhone = azPhone();
      const created = sweep.record(
        await a.app.inject({
          method: 'POST',
          url: '/api/v1/admin/tenants',
          headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
          payload: {
            id: 'small',
            name: 'Small Cafe',
            country: 'AZ',
            currency: 'AZN',
            ownerPhone: '+994 50 ' + ownerPhone.slice(6),
          },
        }),
      );
      expect(created.statusCode, created.body).toBe(201);
      const start = await a.post(
        '/api/v1/auth/otp/start',
        { tenant: 'small', phone: ownerPhone },
        { remoteAddress: ip() },
      );
      expect(start.statusCode, start.body).toBe(202);
      const code = sweep.use(fake.currentCode(ownerPhone)!);
      const check = await a.post('/api/v1/auth/otp/check', {
        verificationId: (start.json() as { verificationId: string }).verificationId,
        code,
      });
      expect(check.statusCode, check.body).toBe(200);
      const me = sweep.record(
        await a.app.as((check.json() as { token: string }).token, { method: 'GET', url: '/api/v1/me' }),
      );
      expect(me.json()).toMatchObject({ tenant: { id: 'small' }, subject: 'small-owner' });

      // Three more starts (owners or not, it is the tenant that counts), then the fifth is refused.
      const calls = fake.requestCount;
      for (let i = 0; i < 3; i++)
        expect(
          (
            await a.post(
              '/api/v1/auth/otp/start',
              { tenant: 'small', phone: azPhone() },
              { remoteAddress: ip() },
            )
          ).statusCode,
        ).toBe(202);
      const fifth = await b.post(
        '/api/v1/auth/otp/start',
        { tenant: 'small', phone: ownerPhone },
        { remoteAddress: ip() },
      );
      expect(fifth.statusCode).toBe(429);
      expect(fifth.json()).toMatchObject({ details: { limit: 'tenant_day' } });
      // All four at one (fake) instant: a day until the oldest leaves the window.
      expect(fifth.headers['retry-after']).toBe('86400');
      expect(fake.requestCount).toBe(calls);
    });

    it('the +994 dial code stops at 9 starts a day, across tenants', async () => {
      // So far today: 4 starts for acme (the day window still holds them all) and 4 for small.
      const phone = azPhone();
      const created = await a.app.inject({
        method: 'POST',
        url: '/api/v1/admin/tenants',
        headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
        payload: { id: 'third', name: 'Third', country: 'AZ', currency: 'AZN', ownerPhone: phone },
      });
      expect(created.statusCode).toBe(201);
      const ninth = await a.post(
        '/api/v1/auth/otp/start',
        { tenant: 'third', phone },
        { remoteAddress: ip() },
      );
      expect(ninth.statusCode, ninth.body).toBe(202);
      const calls = fake.requestCount;
      const tenth = await b.post(
        '/api/v1/auth/otp/start',
        { tenant: 'third', phone: azPhone() },
        { remoteAddress: ip() },
      );
      expect(tenth.statusCode).toBe(429);
      expect(tenth.json()).toMatchObject({ details: { limit: 'dial_code_day' } });
      // The ninth newest +994 start is one of the first test's three, 601 s before the others.
      expect(tenth.headers['retry-after']).toBe(String(86_400 - 601));
      expect(fake.requestCount).toBe(calls);
    });

    it('ownerPhone must be a valid phone inside the allow-list; otpAllowedPrefixes widens it', async () => {
      const admin = (payload: Record<string, unknown>) =>
        a.app.inject({
          method: 'POST',
          url: '/api/v1/admin/tenants',
          headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
          payload: { name: 'X', country: 'AZ', currency: 'AZN', ...payload },
        });
      const bad = await admin({ id: 'bad-phone', ownerPhone: 'nope' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'invalid_phone' });
      const outside = await admin({ id: 'turkish', ownerPhone: '+905321234567' });
      expect(outside.statusCode).toBe(400);
      expect(outside.json()).toMatchObject({ error: 'validation_failed', details: { field: 'ownerPhone' } });
      const wide = await admin({
        id: 'turkish',
        ownerPhone: '+905321234567',
        otpAllowedPrefixes: ['+994', '+90'],
      });
      expect(wide.statusCode, wide.body).toBe(201);
      const t = await a.app.db.query<{ otp_allowed_prefixes: string[]; opt_ins: Record<string, boolean> }>(
        `SELECT otp_allowed_prefixes, opt_ins FROM tenants WHERE id = 'turkish'`,
      );
      expect(t.rows[0]).toMatchObject({
        otp_allowed_prefixes: ['+994', '+90'],
        opt_ins: { otp_sms: true, in_app: true },
      });
      const owners = await a.app.db.query(
        `SELECT tenant_id, phone, owner_id FROM owners WHERE tenant_id = 'turkish'`,
      );
      expect(owners.rows).toEqual([
        { tenant_id: 'turkish', phone: '+905321234567', owner_id: 'turkish-owner' },
      ]);
    });

    it('a range Twilio refused (60410) is remembered in the database: the other process answers a stranger there with the same 403, 0 provider calls', async () => {
      // The +90 owner of "turkish" (previous test); +994 has used its day here.
      const owner = '+905321234567';
      const stranger = '+905321239876';
      fake.forceError(60410);
      const first = await a.post(
        '/api/v1/auth/otp/start',
        { tenant: 'turkish', phone: owner },
        { remoteAddress: ip() },
      );
      expect(first.statusCode, first.body).toBe(403);
      const calls = fake.requestCount;
      const other = await b.post(
        '/api/v1/auth/otp/start',
        { tenant: 'turkish', phone: stranger },
        { remoteAddress: ip() },
      );
      expect(other.statusCode).toBe(403);
      const { requestId: _a, ...x } = first.json() as Record<string, unknown>;
      const { requestId: _b, ...y } = other.json() as Record<string, unknown>;
      expect(y).toEqual(x);
      expect(fake.requestCount).toBe(calls);
    });

    it.runIf(kind === 'postgres')('the CLI: tenant create --owner-phone --otp-prefixes', async () => {
      const cfg = () => testConfig({ DATABASE_URL: tdb.url! });
      expect(
        await cliCommands.tenant!(
          ['create', '--id', 'cli-cafe', '--name', 'CLI Cafe', '--owner-phone', 'x'],
          cfg,
        ),
      ).toBe(2);
      expect(
        await cliCommands.tenant!(
          ['create', '--id', 'cli-cafe', '--name', 'CLI Cafe', '--owner-phone', '+905321234567'],
          cfg,
        ),
      ).toBe(2);
      expect(
        await cliCommands.tenant!(
          [
            'create',
            '--id',
            'cli-cafe',
            '--name',
            'CLI Cafe',
            '--owner-phone',
            '+905321234567',
            '--otp-prefixes',
            '+90',
          ],
          cfg,
        ),
      ).toBe(0);
      const owners = await a.app.db.query(`SELECT phone, owner_id FROM owners WHERE tenant_id = 'cli-cafe'`);
      expect(owners.rows).toEqual([{ phone: '+905321234567', owner_id: 'cli-cafe-owner' }]);
    });
  });
}
