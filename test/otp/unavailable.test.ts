import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanModule } from '../../src/lan/module.ts';
import { providerBudgetMs } from '../../src/otp/service.ts';
import type { TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { drivers } from '../helpers/db.ts';
import { waitFor } from '../helpers/runtime.ts';
import { connectDevice, listenLan, registerDevice, type RecordingDevice } from '../lan/helpers.ts';
import { ACCOUNT_SID, addOwner, azPhone, closedPort, createOtpApp, FakeClock, liveOtpEnv, SERVICE_SID, startFake, type OtpApp } from './helpers.ts';

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

async function timedStart(h: OtpApp, phone: string, ip = '203.0.113.9') {
  const t0 = performance.now();
  const r = await h.post('/api/v1/auth/otp/start', { tenant: 'acme', phone }, { remoteAddress: ip });
  return { r, ms: performance.now() - t0 };
}

async function otpRows(h: OtpApp, phone: string) {
  return (await h.app.db.query<{ status: string; reason: string; attempts: number }>(`SELECT status, reason, attempts FROM outbox WHERE channel = 'otp_sms' AND target = $1`, [phone])).rows;
}

const UNREACHABLE = `http://127.0.0.1:${await closedPort()}`;

for (const kind of await drivers()) {
  describe(`OTP is online only: every refusal is immediate, clear, and nothing is queued [${kind}]`, () => {
    const clock = new FakeClock();

    const cases: { name: string; env: Record<string, string>; reason: RegExp }[] = [
      { name: 'no provider configured (QA runtime, no Twilio env)', env: {}, reason: /not configured.*never queued/ },
      {
        name: 'external sends disabled outside QA',
        env: { MUPZA_RUNTIME: 'production', OTP_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_VERIFY_SERVICE_SID: SERVICE_SID },
        reason: /COMMS_EXTERNAL_SENDS is disabled.*never queued/,
      },
      {
        name: 'provider configured but the runtime is QA (a code cannot be dry-run)',
        env: { MUPZA_RUNTIME: 'qa', COMMS_EXTERNAL_SENDS: 'enabled', OTP_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_VERIFY_SERVICE_SID: SERVICE_SID },
        reason: /runtime is qa.*cannot be dry-run/,
      },
      {
        name: 'OTP_PROVIDER is firebase',
        env: { MUPZA_RUNTIME: 'production', COMMS_EXTERNAL_SENDS: 'enabled', OTP_PROVIDER: 'firebase', NEXT_PUBLIC_FIREBASE_PROJECT_ID: 'p' },
        reason: /firebase/,
      },
      {
        name: 'provider unreachable (connection refused)',
        env: {
          MUPZA_RUNTIME: 'production',
          COMMS_EXTERNAL_SENDS: 'enabled',
          OTP_PROVIDER: 'twilio',
          TWILIO_ACCOUNT_SID: ACCOUNT_SID,
          TWILIO_VERIFY_SERVICE_SID: SERVICE_SID,
          TWILIO_VERIFY_BASE_URL: UNREACHABLE,
        },
        reason: /cannot be reached/,
      },
    ];

    for (const c of cases) {
      describe(c.name, () => {
        let h: OtpApp;
        beforeAll(async () => {
          h = await createOtpApp(kind, clock, { env: c.env });
        });
        afterAll(() => h.app.close());

        it('503 otp_unavailable with the reason, at once; the row is blocked and nothing is queued', async () => {
          const phone = azPhone();
          await addOwner(h.app, phone);
          const { r, ms } = await timedStart(h, phone);
          expect(r.statusCode, r.body).toBe(503);
          const body = r.json() as { error: string; message: string; details: { reason: string } };
          expect(body.error).toBe('otp_unavailable');
          expect(`${body.message} ${body.details.reason}`).toMatch(c.reason);
          expect(ms).toBeLessThan(5_000);
          const rows = await otpRows(h, phone);
          expect(rows).toHaveLength(1);
          expect(rows[0]!.status).toBe('blocked');
          const waiting = await h.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE channel = 'otp_sms' AND status IN ('queued', 'ready', 'failed', 'sending')`);
          expect(Number(waiting.rows[0]!.n)).toBe(0);
        });
      });
    }

    describe('50 concurrent starts while Twilio hangs; a LAN device keeps getting in_app notifications', () => {
      let fake: TwilioVerifyFake;
      let h: OtpApp;
      let device: RecordingDevice;
      const TIMEOUT_MS = 1_000;
      beforeAll(async () => {
        fake = await startFake(clock);
        h = await createOtpApp(kind, clock, { env: liveOtpEnv(fake, { OTP_TIMEOUT_MS: String(TIMEOUT_MS) }), extraModules: [lanModule()] });
        const { ws } = await listenLan(h.app);
        device = await connectDevice(ws, await registerDevice(h.app, h.app.ownerToken, 'pos-1', 'pos'));
      });
      afterAll(async () => {
        await device.close();
        await h.app.close();
        await fake.close();
      });

      it('each start fails with 503 within OTP_TIMEOUT_MS, each row is blocked after one call, and in_app p99 enqueue→device stays under 50 ms', async () => {
        const phones = Array.from({ length: 50 }, azPhone);
        for (const p of phones) await addOwner(h.app, p);
        fake.setFault({ kind: 'hang' });
        // One start alone first: it reaches the hanging provider and is cut at its deadline.
        const lonePhone = azPhone();
        await addOwner(h.app, lonePhone);
        const lone = await timedStart(h, lonePhone, '10.1.0.1');
        expect(lone.r.statusCode).toBe(503);
        expect((lone.r.json() as { message: string; details: { reason: string } }).details.reason).toBe('provider_uncertain');
        expect(lone.ms).toBeLessThan(TIMEOUT_MS);
        const calls = fake.requestCount;

        const received = new Map<string, number>();
        device.client.on('notification', (n: { id: string }) => received.set(n.id, performance.now()));
        let seq = 0;
        /**
         * The kitchen screen posts in_app notifications to the POS, one every 10 ms, while `busy()`
         * and until `min` were sent; returns the enqueue→receipt latencies.
         */
        const lanTraffic = async (busy: () => boolean, min: number): Promise<number[]> => {
          const sentAt = new Map<string, number>();
          const sender = async () => {
            while (busy() || sentAt.size < min) {
              const t0 = performance.now();
              const r = await h.app.as(h.app.ownerToken, {
                method: 'POST',
                url: '/api/v1/lan/notifications',
                payload: { target: { device: 'pos-1' }, title: `Ticket ${seq++}`, body: 'ready', source: 'kitchen_desktop' },
              });
              expect(r.statusCode, r.body).toBe(202);
              sentAt.set((r.json() as { id: string }).id, t0);
              await new Promise((res) => setTimeout(res, 10));
            }
          };
          await sender();
          await waitFor(async () => [...sentAt.keys()].every((id) => received.has(id)), 5_000, 5);
          return [...sentAt].map(([id, t0]) => received.get(id)! - t0).sort((a, b) => a - b);
        };

        // The same LAN traffic without any OTP first (for as long as the flood lasts): the machine's own figure.
        const until = performance.now() + TIMEOUT_MS;
        const baseline = await lanTraffic(() => performance.now() < until, 60);

        // Each start from its own client address: this test is about the timeout, not the IP limit.
        let done = false;
        const during = lanTraffic(() => !done, 60);
        const starts = await Promise.all(phones.map((p, i) => timedStart(h, p, `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`)));
        done = true;
        const latencies = await during;

        for (const { r } of starts) {
          expect(r.statusCode, r.body).toBe(503);
          expect(r.json()).toMatchObject({ error: 'otp_unavailable' });
          expect((r.json() as { message: string }).message).toMatch(/did not answer in time|did not finish within OTP_TIMEOUT_MS|ran out of time before the provider call/);
        }
        const durations = starts.map((s) => s.ms).sort((a, b) => a - b);
        expect(durations.at(-1)!).toBeLessThan(TIMEOUT_MS);

        // Every row ends blocked after its one attempt: timed out at Twilio, or (a request queued
        // behind the others past its deadline) never sent at all. Nothing is left to send later.
        await waitFor(async () => {
          const r = await h.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE channel = 'otp_sms' AND status = 'blocked' AND target <> $1`, [lonePhone]);
          return Number(r.rows[0]!.n) === 50;
        }, 5_000);
        const rows = await h.app.db.query<{ status: string; attempts: number; last_error_code: string }>(
          `SELECT status, attempts, last_error_code FROM outbox WHERE channel = 'otp_sms' AND target <> $1`,
          [lonePhone],
        );
        expect(rows.rows).toHaveLength(50);
        for (const row of rows.rows) {
          expect(row).toMatchObject({ status: 'blocked', attempts: 1 });
          expect(['provider_uncertain', 'otp_deadline']).toContain(row.last_error_code);
        }
        const called = fake.requestCount - calls;
        // At most one provider call per start (never a retry): the fake's count is the server's view;
        // a row's code is the client's view, which differs only for a call cut at its very deadline.
        expect(called).toBeLessThanOrEqual(50);
        // On a quiet machine all 50 reach the hanging provider; on a loaded one, some run out of
        // time in the database first and answer without a call. Either way: 503 in time, no retry.

        const p99 = percentile(latencies, 0.99);
        const baseP99 = percentile(baseline, 0.99);
        console.log(
          `[${kind}] otp starts: max ${Math.round(durations.at(-1)!)} ms, p50 ${Math.round(percentile(durations, 0.5))} ms; ` +
            `in_app enqueue→device during the flood: n=${latencies.length} p50 ${percentile(latencies, 0.5).toFixed(1)} ms p99 ${p99.toFixed(1)} ms; ` +
            `without OTP: n=${baseline.length} p50 ${percentile(baseline, 0.5).toFixed(1)} ms p99 ${baseP99.toFixed(1)} ms`,
        );
        // Under 50 ms. On a machine so loaded that the LAN traffic alone is slower than that, the
        // flood may at most double the machine's own figure — and never come near the hang itself:
        // a LAN path waiting on the OTP provider would show the provider budget (~700 ms) or more.
        expect(p99).toBeLessThan(Math.min(providerBudgetMs(TIMEOUT_MS), Math.max(50, baseP99 * 2 + 20)));

        // Nothing was queued for later: no OTP row comes back to a lane, and Twilio hears nothing more.
        fake.clearFault();
        await new Promise((r) => setTimeout(r, 600));
        expect(fake.requestCount - calls).toBe(called);
        console.log(`[${kind}] provider calls made: ${called} of 50 (the rest ran out of time before the call)`);
      });
    });
  });
}
