import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/store/tenants.ts';
import type { TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { drivers } from '../helpers/db.ts';
import { laneClaimedSince } from '../helpers/lane-cycle.ts';
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

const MIN = 60_000;

for (const kind of await drivers()) {
  describe(`OTP start/check against the Twilio fake, on a fake clock [${kind}]`, () => {
    const clock = new FakeClock();
    const sweep = new CodeSweep();
    let fake: TwilioVerifyFake;
    let h: OtpApp;
    let ipN = 0;
    const nextIp = () => `198.51.100.${++ipN}`;

    beforeAll(async () => {
      fake = await startFake(clock);
      h = await createOtpApp(kind, clock, { env: liveOtpEnv(fake), sweep });
      await h.app.db.tx((q) =>
        createTenant(
          q,
          {
            id: 'other',
            name: 'Other',
            country: 'AZ',
            currency: 'AZN',
            timezone: 'Asia/Baku',
            locale: 'az',
            optIns: { otp_sms: true },
          },
          'test',
        ),
      );
    });
    afterAll(async () => {
      await sweep.assertClean(h.app);
      await h.app.close();
      await fake.close();
    });

    const start = (phone: string, ip = nextIp(), extra: Record<string, unknown> = {}) =>
      h.post('/api/v1/auth/otp/start', { tenant: 'acme', phone, ...extra }, { remoteAddress: ip });
    const check = (verificationId: string, code: string, extra: Record<string, unknown> = {}) =>
      h.post('/api/v1/auth/otp/check', { verificationId, code: sweep.use(code), ...extra });
    const started = async (phone: string, ip?: string) => {
      const r = await start(phone, ip);
      expect(r.statusCode, r.body).toBe(202);
      return (r.json() as { verificationId: string }).verificationId;
    };
    const codeFor = (phone: string) => {
      const c = fake.currentCode(phone);
      expect(c).toMatch(/^\d{10}$/);
      return sweep.use(c!);
    };
    const verification = async (id: string) =>
      (
        await h.app.db.query<{ status: string; checks: number; method: string }>(
          'SELECT status, checks, method FROM otp_verifications WHERE id = $1',
          [id],
        )
      ).rows[0]!;

    it('signs an owner in: one provider call to start, one to check; the session works; the otp_sms row is sent with its audit trail', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const calls = fake.requestCount;
      const r = await start(phone);
      expect(r.statusCode, r.body).toBe(202);
      const { verificationId, status } = r.json() as { verificationId: string; status: string };
      expect(status).toBe('pending');
      expect(Object.keys(r.json() as object).sort()).toEqual(['status', 'verificationId']);
      expect(fake.requestCount - calls).toBe(1);

      const c = await check(verificationId, codeFor(phone));
      expect(c.statusCode, c.body).toBe(200);
      const session = c.json() as { token: string; expiresAt: string };
      expect(session.token).toMatch(/^mz_owner_/);
      expect(Date.parse(session.expiresAt)).toBe(clock.now() + 43_200_000);
      expect(fake.requestCount - calls).toBe(2);

      const me = sweep.record(await h.app.as(session.token, { method: 'GET', url: '/api/v1/me' }));
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ role: 'owner', subject: 'acme-owner', tenant: { id: 'acme' } });

      const row = (
        await h.app.db.query<{
          id: string;
          status: string;
          mode: string;
          channel: string;
          adapter: string;
          provider_message_id: string;
        }>(
          `SELECT id, status, mode, channel, adapter, provider_message_id FROM outbox WHERE source = 'owner_login' AND target = $1`,
          [phone],
        )
      ).rows;
      expect(row).toHaveLength(1);
      expect(row[0]).toMatchObject({
        status: 'sent',
        mode: 'live',
        channel: 'otp_sms',
        adapter: 'twilio_verify',
      });
      expect(row[0]!.provider_message_id).toBe(fake.verification(phone)!.sid);
      const audit = await h.app.db.query<{ from_status: string | null; to_status: string; action: string }>(
        `SELECT from_status, to_status, action FROM audit_events WHERE entity = 'outbox' AND entity_id = $1 ORDER BY id`,
        [row[0]!.id],
      );
      expect(audit.rows.map((a) => [a.action, a.from_status, a.to_status])).toEqual([
        ['created', null, 'ready'],
        ['claimed', 'ready', 'sending'],
        ['attempt', 'sending', 'sent'],
      ]);
      const attempts = await h.app.db.query<{ outcome: string; mode: string }>(
        'SELECT outcome, mode FROM outbox_attempts WHERE outbox_id = $1',
        [row[0]!.id],
      );
      expect(attempts.rows).toEqual([{ outcome: 'sent', mode: 'live' }]);
      // The verification id is the caller's handle only; the listed outbox row has another id.
      expect(row[0]!.id).not.toBe(verificationId);
    });

    it('single use: an approved verification never signs in again, and asks the provider nothing', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const id = await started(phone);
      const code = codeFor(phone);
      expect((await check(id, code)).statusCode).toBe(200);
      const calls = fake.requestCount;
      const again = await check(id, code);
      expect(again.statusCode).toBe(410);
      expect(again.json()).toMatchObject({ error: 'otp_expired' });
      expect(fake.requestCount).toBe(calls);
      expect((await verification(id)).status).toBe('approved');
    });

    it('lifetime: a code checks in its tenth minute; after ten minutes the right code is refused with 0 provider calls', async () => {
      const early = azPhone();
      const late = azPhone();
      await addOwner(h.app, early);
      await addOwner(h.app, late);
      const idEarly = await started(early);
      const idLate = await started(late);
      const codeEarly = codeFor(early);
      const codeLate = codeFor(late);

      clock.advance(10 * MIN - 1_000);
      let calls = fake.requestCount;
      expect((await check(idEarly, codeEarly)).statusCode).toBe(200);
      expect(fake.requestCount - calls).toBe(1);

      clock.advance(1_000);
      calls = fake.requestCount;
      const r = await check(idLate, codeLate);
      expect(r.statusCode).toBe(410);
      expect(r.json()).toMatchObject({ error: 'otp_expired' });
      expect((r.json() as { message: string }).message).toMatch(/expired/);
      expect(fake.requestCount).toBe(calls);
      expect((await verification(idLate)).status).toBe('expired');
    });

    it('binding: a verification answers only for the tenant and phone that started it', async () => {
      const a = azPhone();
      const b = azPhone();
      await addOwner(h.app, a, 'acme', 'acme-owner');
      await addOwner(h.app, b, 'acme', 'acme-manager');
      const idA = await started(a);
      const idB = await started(b);
      const codeA = codeFor(a);
      const codeB = codeFor(b);
      expect(codeA).not.toBe(codeB);

      let calls = fake.requestCount;
      for (const extra of [{ tenant: 'other' }, { phone: b }, { tenant: 'acme', phone: b }]) {
        const r = await check(idA, codeA, extra);
        expect(r.statusCode, JSON.stringify(extra)).toBe(404);
        expect(r.json()).toMatchObject({ error: 'not_found' });
      }
      expect((await check(randomUUID(), codeA)).statusCode).toBe(404);
      expect(fake.requestCount).toBe(calls);
      expect((await verification(idA)).checks).toBe(0);

      // B's code on A's verification: Twilio checks A's verification, so it is simply wrong.
      calls = fake.requestCount;
      const crossed = await check(idA, codeB);
      expect(crossed.statusCode).toBe(400);
      expect(crossed.json()).toMatchObject({ error: 'otp_invalid_code' });
      expect(fake.requestCount - calls).toBe(1);

      const okA = await check(idA, codeA, { tenant: 'acme', phone: a });
      expect(okA.statusCode, okA.body).toBe(200);
      const okB = await check(idB, codeB);
      expect(okB.statusCode).toBe(200);
      const subjects = await Promise.all(
        [okA, okB].map(
          async (r) =>
            (
              (
                await h.app.as((r.json() as { token: string }).token, { method: 'GET', url: '/api/v1/me' })
              ).json() as { subject: string }
            ).subject,
        ),
      );
      expect(subjects).toEqual(['acme-owner', 'acme-manager']);
    });

    it('at most 5 checks: after five wrong codes even the right code is refused, without a provider call', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const id = await started(phone);
      const code = codeFor(phone);
      const calls = fake.requestCount;
      const left: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await check(id, sweep.wrong(code));
        expect(r.statusCode).toBe(400);
        expect(r.json()).toMatchObject({ error: 'otp_invalid_code' });
        left.push((r.json() as { details: { checksLeft: number } }).details.checksLeft);
      }
      expect(left).toEqual([4, 3, 2, 1, 0]);
      expect(fake.requestCount - calls).toBe(5);
      const right = await check(id, code);
      expect(right.statusCode).toBe(410);
      expect(right.json()).toMatchObject({ error: 'otp_expired' });
      expect(fake.requestCount - calls).toBe(5);
      expect(await verification(id)).toMatchObject({ status: 'dead', checks: 5 });
    });

    it('parallel guesses cannot exceed the 5 checks', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const id = await started(phone);
      const code = codeFor(phone);
      const calls = fake.requestCount;
      const answers = await Promise.all(Array.from({ length: 9 }, () => check(id, sweep.wrong(code))));
      const statuses = answers.map((r) => r.statusCode).sort();
      expect(statuses.filter((s) => s === 400)).toHaveLength(5);
      expect(statuses.filter((s) => s === 410)).toHaveLength(4);
      expect(fake.requestCount - calls).toBe(5);
    });

    it('resend: within 30 s refused 429 with Retry-After and 0 provider calls; later the same code is resent under a new id, the old id is dead and its checks carry over; 3 per 10 minutes', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      let calls = fake.requestCount;
      const first = await started(phone);
      const code = codeFor(phone);
      expect(fake.requestCount - calls).toBe(1);

      calls = fake.requestCount;
      clock.advance(10_000);
      const early = await start(phone);
      expect(early.statusCode).toBe(429);
      expect(early.headers['retry-after']).toBe('20');
      expect(early.json()).toMatchObject({
        error: 'rate_limited',
        details: { limit: 'resend_interval', retryAfterS: 20 },
      });
      expect(fake.requestCount).toBe(calls);

      expect((await check(first, sweep.wrong(code))).statusCode).toBe(400);
      clock.advance(20_000);
      calls = fake.requestCount;
      const sendsBefore = fake.sends;
      const second = await started(phone);
      expect(fake.requestCount - calls).toBe(1);
      expect(fake.sends - sendsBefore).toBe(1);
      expect(fake.currentCode(phone)).toBe(code);
      expect(second).not.toBe(first);

      calls = fake.requestCount;
      const old = await check(first, code);
      expect(old.statusCode).toBe(410);
      expect(fake.requestCount).toBe(calls);
      expect(await verification(second)).toMatchObject({ checks: 1, status: 'pending' });
      for (let i = 0; i < 3; i++) expect((await check(second, sweep.wrong(code))).statusCode).toBe(400);
      const lastWrong = await check(second, sweep.wrong(code));
      expect(lastWrong.json()).toMatchObject({ details: { checksLeft: 0 } });
      expect((await check(second, code)).statusCode).toBe(410);

      clock.advance(30_000);
      await started(phone);
      clock.advance(30_000);
      calls = fake.requestCount;
      const fourth = await start(phone);
      expect(fourth.statusCode).toBe(429);
      expect(fourth.json()).toMatchObject({ details: { limit: 'phone_10m' } });
      // Starts at 0, 30 and 60 s, this one at 90 s: a slot frees when the first leaves the 10-minute window.
      expect(fourth.headers['retry-after']).toBe(String(600 - 90));
      expect(fake.requestCount).toBe(calls);
    });

    it('10 starts per phone per day', async () => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      const calls = fake.requestCount;
      for (let i = 0; i < 10; i++) {
        await started(phone);
        clock.advance(11 * MIN);
      }
      expect(fake.requestCount - calls).toBe(10);
      const r = await start(phone);
      expect(r.statusCode).toBe(429);
      expect(r.json()).toMatchObject({ details: { limit: 'phone_day' } });
      expect(Number(r.headers['retry-after'])).toBe(86_400 - 110 * 60);
      expect(fake.requestCount - calls).toBe(10);
    });

    it('10 starts per client IP per hour, whatever the phones', async () => {
      const ip = '192.0.2.50';
      const phones = Array.from({ length: 11 }, azPhone);
      for (const p of phones) await addOwner(h.app, p);
      const calls = fake.requestCount;
      for (const p of phones.slice(0, 10)) await started(p, ip);
      const r = await start(phones[10]!, ip);
      expect(r.statusCode).toBe(429);
      expect(r.json()).toMatchObject({ details: { limit: 'ip_hour' } });
      // All ten at one (fake) instant: the first leaves the hour window in exactly an hour.
      expect(r.headers['retry-after']).toBe('3600');
      expect(fake.requestCount - calls).toBe(10);
      // Another client is not affected.
      await started(phones[10]!);
    });

    it('destination allow-list: a number outside +994 is refused 403 with 0 provider calls', async () => {
      const calls = fake.requestCount;
      for (const phone of ['+905321234567', '+16505551234']) {
        const r = await start(phone);
        expect(r.statusCode).toBe(403);
        expect(r.json()).toMatchObject({ error: 'destination_not_allowed' });
      }
      expect(fake.requestCount).toBe(calls);
    });

    it('Twilio 60410 and 60605 are permanent: 403, the row ends dead/blocked after one call and is never retried', async () => {
      for (const [code, rowStatus] of [
        [60410, 'dead'],
        [60605, 'blocked'],
      ] as const) {
        const phone = azPhone();
        await addOwner(h.app, phone);
        fake.forceError(code);
        const calls = fake.requestCount;
        const r = await start(phone);
        expect(r.statusCode, r.body).toBe(403);
        expect(r.json()).toMatchObject({
          error: 'destination_not_allowed',
          details: { reason: `twilio_${code}` },
        });
        const row = (
          await h.app.db.query<{ status: string; last_error_code: string; attempts: number }>(
            `SELECT status, last_error_code, attempts FROM outbox WHERE source = 'owner_login' AND target = $1`,
            [phone],
          )
        ).rows;
        expect(row).toEqual([{ status: rowStatus, last_error_code: `twilio_${code}`, attempts: 1 }]);
        // The dispatcher's Twilio lane has claimed a later row since: had this one been claimable,
        // that claim (or an earlier one) would have taken it and called Twilio again.
        await laneClaimedSince(h.app.db, { tenant: 'acme', channel: 'otp_sms', adapter: 'twilio_verify' });
        const after = (
          await h.app.db.query<{ status: string; attempts: number }>(
            `SELECT status, attempts FROM outbox WHERE source = 'owner_login' AND target = $1`,
            [phone],
          )
        ).rows;
        expect(after).toEqual([{ status: rowStatus, attempts: 1 }]);
        expect(fake.requestCount - calls).toBe(1);
      }
      // The ranges these refusals cover are remembered (next test); let those memories run out.
      clock.advance(12 * 60 * MIN + 1_000);
    });

    it('no enumeration in a range Twilio refuses: after 60410 (the prefix, 12 h) or 60605 (the country, 1 h), owners and strangers get the same 403 with 0 provider calls', async () => {
      const body = (r: Awaited<ReturnType<typeof start>>) => {
        const { requestId: _r, ...rest } = r.json() as Record<string, unknown>;
        return rest;
      };
      const rowsFor = async (phone: string) =>
        (await h.app.db.query(`SELECT id FROM outbox WHERE target = $1`, [phone])).rows.length;
      const owner = azPhone();
      await addOwner(h.app, owner);
      const range = owner.slice(0, -4);
      const stranger = `${range}${String((Number(owner.slice(-4)) + 1) % 10_000).padStart(4, '0')}`;
      let elsewhere = azPhone();
      while (elsewhere.startsWith(range)) elsewhere = azPhone();

      fake.forceError(60410);
      const first = await start(owner);
      expect(first.statusCode, first.body).toBe(403);
      const calls = fake.requestCount;
      const strangerAnswer = await start(stranger);
      const ownerAgain = await start(owner);
      for (const r of [strangerAnswer, ownerAgain]) {
        expect(r.statusCode).toBe(403);
        expect(body(r)).toEqual(body(first));
      }
      expect(body(first)).toMatchObject({
        error: 'destination_not_allowed',
        details: { reason: 'twilio_60410' },
      });
      expect(fake.requestCount).toBe(calls);
      // Refused before the owner lookup: nothing written for either (the owner's one row is the real attempt).
      expect(await rowsFor(stranger)).toBe(0);
      expect(await rowsFor(owner)).toBe(1);
      // Another range is not affected (a stranger there gets the decoy's 202).
      expect((await start(elsewhere)).statusCode).toBe(202);
      // Fraud Guard lifts its block after 12 h; so does the memory.
      clock.advance(12 * 60 * MIN - 10 * MIN);
      expect((await start(stranger)).statusCode).toBe(403);
      clock.advance(10 * MIN + 1_000);
      expect((await start(stranger)).statusCode).toBe(202);
      expect(fake.requestCount).toBe(calls);

      // 60605 (Geo Permissions) covers the country: every +994 start, for an hour.
      const owner2 = azPhone();
      await addOwner(h.app, owner2);
      fake.forceError(60605);
      const geo = await start(owner2);
      expect(geo.statusCode, geo.body).toBe(403);
      const calls2 = fake.requestCount;
      const anyone = await start(azPhone());
      expect(anyone.statusCode).toBe(403);
      expect(body(anyone)).toEqual(body(geo));
      expect(body(geo)).toMatchObject({ details: { reason: 'twilio_60605' } });
      expect(fake.requestCount).toBe(calls2);
      clock.advance(60 * MIN + 1_000);
      expect((await start(azPhone())).statusCode).toBe(202);
    });

    it('no enumeration: a phone that is not an owner gets the same answer, no SMS is sent, and no code ever signs it in', async () => {
      const owner = azPhone();
      const stranger = azPhone();
      await addOwner(h.app, owner);
      const calls = fake.requestCount;
      const a = await start(owner);
      const b = await start(stranger);
      expect(b.statusCode).toBe(a.statusCode);
      const shape = (r: typeof a) =>
        Object.entries(r.json() as Record<string, string>).map(([k, v]) => [
          k,
          k === 'verificationId' ? v.replace(/[0-9a-f]/g, 'x') : v,
        ]);
      expect(shape(b)).toEqual(shape(a));
      expect(fake.requestCount - calls).toBe(1);
      expect(fake.verification(stranger)).toBeUndefined();

      const code = codeFor(owner);
      const idStranger = (b.json() as { verificationId: string }).verificationId;
      const idOwner = (a.json() as { verificationId: string }).verificationId;
      const wrongOwner = await check(idOwner, sweep.wrong(code));
      const wrongStranger = await check(idStranger, code);
      expect(wrongStranger.statusCode).toBe(wrongOwner.statusCode);
      const body = (r: typeof a) => {
        const { requestId: _r, ...rest } = r.json() as Record<string, unknown>;
        return rest;
      };
      expect(body(wrongStranger)).toEqual(body(wrongOwner));
      for (let i = 0; i < 4; i++) expect((await check(idStranger, code)).statusCode).toBe(400);
      expect((await check(idStranger, code)).statusCode).toBe(410);
      // The owner's start and one check went to Twilio; nothing for the stranger.
      expect(fake.requestCount - calls).toBe(2);
      const tokens = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM api_tokens WHERE label = 'session:otp' AND subject NOT LIKE 'acme-%'`,
      );
      expect(Number(tokens.rows[0]!.n)).toBe(0);
      const row = (
        await h.app.db.query<{ status: string; reason: string }>(
          `SELECT status, reason FROM outbox WHERE target = $1`,
          [stranger],
        )
      ).rows;
      expect(row).toHaveLength(1);
      expect(row[0]!.status).toBe('blocked');
      expect(row[0]!.reason).toMatch(/not an owner/);
    });
  });
}
