import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TwilioErrorCode, TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { drivers } from '../helpers/db.ts';
import { laneClaimedSince } from '../helpers/lane-cycle.ts';
import { addOwner, azPhone, createOtpApp, FakeClock, liveOtpEnv, startFake, type OtpApp } from './helpers.ts';

/**
 * Twilio rate limits (20429, 60212) on an OTP start: retryable for Twilio, but OTP is online only,
 * so the caller gets 503 otp_unavailable with the provider's wait as Retry-After, and the row is
 * blocked after its one call instead of being retried later (docs/otp.md, docs/providers.md).
 */
for (const kind of await drivers()) {
  describe(`OTP start when Twilio rate-limits [${kind}]`, () => {
    const clock = new FakeClock();
    let fake: TwilioVerifyFake;
    let h: OtpApp;
    let ipN = 0;

    beforeAll(async () => {
      fake = await startFake(clock);
      h = await createOtpApp(kind, clock, { env: liveOtpEnv(fake) });
    });
    afterAll(async () => {
      await h.app.close();
      await fake.close();
    });

    const cases: { code: TwilioErrorCode; retryAfterSeconds?: number; expectWaitS: number }[] = [
      { code: 20429, retryAfterSeconds: 7, expectWaitS: 7 },
      { code: 60212, retryAfterSeconds: 4, expectWaitS: 4 },
      // No Retry-After on the answer: the table's default wait (2 s for 60212) is what the caller gets.
      { code: 60212, expectWaitS: 2 },
    ];

    for (const c of cases) {
      it(`${c.code}${c.retryAfterSeconds ? ` with Retry-After ${c.retryAfterSeconds}` : ' without Retry-After'} → 503 otp_unavailable, retry-after ${c.expectWaitS}, row blocked after 1 call`, async () => {
        const phone = azPhone();
        await addOwner(h.app, phone);
        fake.forceError(
          c.code,
          1,
          c.retryAfterSeconds !== undefined ? { retryAfterSeconds: c.retryAfterSeconds } : {},
        );
        const calls = fake.requestCount;

        const r = await h.post(
          '/api/v1/auth/otp/start',
          { tenant: 'acme', phone },
          { remoteAddress: `198.51.100.${++ipN}` },
        );
        expect(r.statusCode, r.body).toBe(503);
        expect(r.json()).toMatchObject({ error: 'otp_unavailable', details: { reason: `twilio_${c.code}` } });
        expect((r.json() as { message: string }).message).toMatch(/rate-limiting requests/);
        expect(r.headers['retry-after']).toBe(String(c.expectWaitS));
        // The fake really answered the forced error (not some other refusal).
        expect(fake.rejections.at(-1)).toMatchObject({ reason: 'forced error', code: c.code });

        const rows = await h.app.db.query<{
          status: string;
          attempts: number;
          last_error_code: string;
          reason: string;
        }>(
          `SELECT status, attempts, last_error_code, reason FROM outbox WHERE channel = 'otp_sms' AND target = $1`,
          [phone],
        );
        expect(rows.rows).toHaveLength(1);
        expect(rows.rows[0]).toMatchObject({
          status: 'blocked',
          attempts: 1,
          last_error_code: `twilio_${c.code}`,
        });
        expect(rows.rows[0]!.reason).toMatch(/never queued/);

        // Nothing retries it later: the dispatcher's Twilio lane has claimed a later row since (it
        // would have taken this one first, had it been claimable), and Twilio heard the one call.
        await laneClaimedSince(h.app.db, { tenant: 'acme', channel: 'otp_sms', adapter: 'twilio_verify' });
        expect(
          (
            await h.app.db.query(
              `SELECT status, attempts FROM outbox WHERE channel = 'otp_sms' AND target = $1`,
              [phone],
            )
          ).rows,
        ).toEqual([{ status: 'blocked', attempts: 1 }]);
        expect(fake.requestCount - calls).toBe(1);
      });
    }
  });
}
