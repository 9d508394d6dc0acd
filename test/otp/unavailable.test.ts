import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanModule } from '../../src/lan/module.ts';
import type { TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { drivers } from '../helpers/db.ts';
import { waitFor } from '../helpers/runtime.ts';
import { listenLan, registerDevice, spawnDevice, type DeviceProcess } from '../lan/helpers.ts';
import {
  ACCOUNT_SID,
  addOwner,
  azPhone,
  closedPort,
  createOtpApp,
  FakeClock,
  liveOtpEnv,
  SERVICE_SID,
  startFake,
  type OtpApp,
} from './helpers.ts';

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
  return (
    await h.app.db.query<{ status: string; reason: string; attempts: number }>(
      `SELECT status, reason, attempts FROM outbox WHERE channel = 'otp_sms' AND target = $1`,
      [phone],
    )
  ).rows;
}

const UNREACHABLE = `http://127.0.0.1:${await closedPort()}`;

for (const kind of await drivers()) {
  describe(`OTP is online only: every refusal is immediate, clear, and nothing is queued [${kind}]`, () => {
    const clock = new FakeClock();

    const cases: { name: string; env: Record<string, string>; reason: RegExp }[] = [
      {
        name: 'no provider configured (QA runtime, no Twilio env)',
        env: {},
        reason: /not configured.*never queued/,
      },
      {
        name: 'external sends disabled outside QA',
        env: {
          MUPZA_RUNTIME: 'production',
          OTP_PROVIDER: 'twilio',
          TWILIO_ACCOUNT_SID: ACCOUNT_SID,
          TWILIO_VERIFY_SERVICE_SID: SERVICE_SID,
        },
        reason: /COMMS_EXTERNAL_SENDS is disabled.*never queued/,
      },
      {
        name: 'provider configured but the runtime is QA (a code cannot be dry-run)',
        env: {
          MUPZA_RUNTIME: 'qa',
          COMMS_EXTERNAL_SENDS: 'enabled',
          OTP_PROVIDER: 'twilio',
          TWILIO_ACCOUNT_SID: ACCOUNT_SID,
          TWILIO_VERIFY_SERVICE_SID: SERVICE_SID,
        },
        reason: /runtime is qa.*cannot be dry-run/,
      },
      {
        name: 'OTP_PROVIDER is firebase',
        env: {
          MUPZA_RUNTIME: 'production',
          COMMS_EXTERNAL_SENDS: 'enabled',
          OTP_PROVIDER: 'firebase',
          NEXT_PUBLIC_FIREBASE_PROJECT_ID: 'p',
        },
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
          const waiting = await h.app.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM outbox WHERE channel = 'otp_sms' AND status IN ('queued', 'ready', 'failed', 'sending')`,
          );
          expect(Number(waiting.rows[0]!.n)).toBe(0);
        });
      });
    }

    it('OTP_MAX_STARTS_IN_FLIGHT sets the cap: with 2, a third concurrent start against a hanging Twilio is refused at once (otp_busy)', async () => {
      const fake = await startFake(clock);
      const h = await createOtpApp(kind, clock, {
        env: liveOtpEnv(fake, { OTP_TIMEOUT_MS: '1000', OTP_MAX_STARTS_IN_FLIGHT: '2' }),
      });
      try {
        fake.setFault({ kind: 'hang' });
        const phones = Array.from({ length: 5 }, () => azPhone());
        for (const p of phones) await addOwner(h.app, p);
        const starts = await Promise.all(phones.map((p, i) => timedStart(h, p, `10.77.0.${i + 1}`)));
        const reasons = starts.map(
          ({ r }) => (r.json() as { details?: { reason?: string } }).details?.reason,
        );
        for (const { r } of starts) expect(r.statusCode).toBe(503);
        expect(reasons.filter((x) => x === 'otp_busy')).toHaveLength(3);
        expect(fake.requestCount).toBeLessThanOrEqual(2);

        // At the cap a start is refused before its body is even read: a body that would fail
        // validation gets the same otp_busy, so a flood costs the least work per request.
        const more = Array.from({ length: 2 }, () => azPhone());
        for (const p of more) await addOwner(h.app, p);
        const calls = fake.requestCount;
        const held = more.map((p, i) => timedStart(h, p, `10.78.0.${i + 1}`));
        await waitFor(async () => fake.requestCount === calls + 2, 5_000, 5);
        const bad = await h.post(
          '/api/v1/auth/otp/start',
          { tenant: 'acme', phone: 12, extra: true },
          { remoteAddress: '10.78.1.1' },
        );
        expect(bad.statusCode, bad.body).toBe(503);
        expect((bad.json() as { details: { reason: string } }).details.reason).toBe('otp_busy');
        for (const { r } of await Promise.all(held)) expect(r.statusCode).toBe(503);
        // Once their work has settled the cap is free again and the same body is validated.
        let n = 0;
        await waitFor(
          async () =>
            (
              await h.post(
                '/api/v1/auth/otp/start',
                { tenant: 'acme', phone: 12 },
                { remoteAddress: `10.78.2.${++n}` },
              )
            ).statusCode === 400,
          5_000,
          20,
        );
      } finally {
        await h.app.close();
        await fake.close();
      }
    });

    describe('50 concurrent starts while Twilio hangs; a LAN device keeps getting in_app notifications', () => {
      let fake: TwilioVerifyFake;
      let h: OtpApp;
      let device: DeviceProcess;
      const TIMEOUT_MS = 1_000;
      // The POS screen runs in a process of its own, as a tablet on the LAN does, and notes when each
      // notification reaches it: enqueue→device is then the hub's answer and push, not also the time
      // this busy process takes to read a socket of its own (times are epoch ms from both processes).
      // How the p99 is measured, and why. The bound is the acceptance's, strict: p99 < 50 ms. A
      // 2-core box shared with another test file (vitest runs two at once) sometimes cannot keep
      // the LAN path alone under 50 ms (PGlite, no OTP: p99 up to 68 ms while other OTP files ran),
      // and such a moment says nothing about OTP. So each flood comes with the same LAN traffic
      // just before it, in the same window; a window whose traffic without OTP already missed
      // 50 ms is measured again (at most MAX_WINDOWS in all). The floods of the first WINDOWS good
      // windows are pooled (n ≥ 200: p99 is the third slowest sample, not the slowest) and held to
      // 50 ms. A flood that slowed the LAN path, during or after it, cannot pass: it fails the bound,
      // or it spoils the next windows' traffic until too few are left, which fails too. The first
      // window warms the process up (a cold process was slower in its first flood, not later ones):
      // its answers and rows are checked, its latencies are not counted.
      const WINDOWS = 5;
      const MAX_WINDOWS = 12;
      beforeAll(async () => {
        fake = await startFake(clock);
        h = await createOtpApp(kind, clock, {
          env: liveOtpEnv(fake, { OTP_TIMEOUT_MS: String(TIMEOUT_MS) }),
          extraModules: [lanModule()],
        });
        const { ws } = await listenLan(h.app);
        device = await spawnDevice(ws, await registerDevice(h.app, h.app.ownerToken, 'pos-1', 'pos'));
      });
      afterAll(async () => {
        await device.close();
        await h.app.close();
        await fake.close();
      });

      it(
        `floods of 50: each start fails with 503 within OTP_TIMEOUT_MS (past OTP_MAX_STARTS_IN_FLIGHT in flight at once), at most one provider call each, nothing queued; in_app p99 enqueue→device under 50 ms`,
        { timeout: 120_000 },
        async () => {
          fake.setFault({ kind: 'hang' });
          // Every phone and address of this attempt is new (a retry starts afresh), and each flood
          // starts on a new fake day, so no limit of the previous one is in the way.
          const attempt = randomInt(1, 250);
          // One start alone first: it reaches the hanging provider and is cut at its deadline. It
          // also warms up the OTP path, as the baseline below warms up the LAN path.
          const lonePhone = azPhone();
          await addOwner(h.app, lonePhone);
          const lone = await timedStart(h, lonePhone, `10.${attempt}.255.1`);
          expect(lone.r.statusCode).toBe(503);
          expect((lone.r.json() as { details: { reason: string } }).details.reason).toBe(
            'provider_uncertain',
          );
          expect(lone.ms).toBeLessThan(TIMEOUT_MS);

          const received = device.received;
          const now = () => performance.timeOrigin + performance.now();
          let seq = 0;
          /**
           * The kitchen screen posts in_app notifications to the POS, one every 10 ms, while `busy()`
           * and until `min` were sent; returns the enqueue→receipt latencies.
           */
          const lanTraffic = async (busy: () => boolean, min: number): Promise<number[]> => {
            const sentAt = new Map<string, number>();
            while (busy() || sentAt.size < min) {
              const t0 = now();
              const r = await h.app.as(h.app.ownerToken, {
                method: 'POST',
                url: '/api/v1/lan/notifications',
                payload: {
                  target: { device: 'pos-1' },
                  title: `Ticket ${seq++}`,
                  body: 'ready',
                  source: 'kitchen_desktop',
                },
              });
              expect(r.statusCode, r.body).toBe(202);
              sentAt.set((r.json() as { id: string }).id, t0);
              await new Promise((res) => setTimeout(res, 10));
            }
            await waitFor(async () => [...sentAt.keys()].every((id) => received.has(id)), 5_000, 5);
            return [...sentAt].map(([id, t0]) => received.get(id)! - t0);
          };

          const during: number[] = [];
          const baseline: number[] = [];
          let good = 0;
          let busyWindows = 0;
          let called = 0;
          const answered: number[] = [];
          for (let f = 0; f < MAX_WINDOWS && good < WINDOWS; f++) {
            clock.advance(86_400_000 + 1_000);
            const phones = Array.from({ length: 50 }, azPhone);
            for (const p of phones) await addOwner(h.app, p);
            // The machine's own figure in this window: the same LAN traffic without OTP, as long as a flood lasts.
            const until = performance.now() + TIMEOUT_MS * 0.6;
            const before = (await lanTraffic(() => performance.now() < until, 40)).sort((x, y) => x - y);
            const calls = fake.requestCount;
            // Each start from its own client address: this test is about the timeout, not the IP limit.
            let done = false;
            const lan = lanTraffic(() => !done, 40);
            const starts = await Promise.all(
              phones.map((p, i) => timedStart(h, p, `10.${attempt}.${f}.${i + 1}`)),
            );
            done = true;
            const latencies = await lan;

            const reasons = starts.map(({ r }) => {
              expect(r.statusCode, r.body).toBe(503);
              const body = r.json() as { error: string; message: string; details: { reason: string } };
              expect(body.error).toBe('otp_unavailable');
              expect(body.message).toMatch(
                /did not answer in time|did not finish within OTP_TIMEOUT_MS|ran out of time before the provider call|too many sign-ins are in progress/,
              );
              return body.details.reason;
            });
            answered.push(...starts.map((s) => s.ms));
            expect(Math.max(...starts.map((s) => s.ms))).toBeLessThan(TIMEOUT_MS);
            // Past the cap a start is refused at once, with Retry-After, before any database work.
            const shed = phones.filter((_, i) => reasons[i] === 'otp_busy');
            const admitted = phones.filter((_, i) => reasons[i] !== 'otp_busy');
            expect(admitted.length).toBeGreaterThan(0);
            expect(admitted.length).toBeLessThanOrEqual(h.app.rt.config.env.OTP_MAX_STARTS_IN_FLIGHT);
            for (const [i, { r }] of starts.entries())
              if (reasons[i] === 'otp_busy') expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);

            // An admitted start's row ends blocked after its one attempt: timed out at Twilio, or
            // (queued behind the others past its deadline) never sent at all. A refused start has no
            // row. Nothing is left to send later.
            await waitFor(async () => {
              const r = await h.app.db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM outbox WHERE channel = 'otp_sms' AND status = 'blocked' AND target = ANY($1)`,
                [admitted],
              );
              return Number(r.rows[0]!.n) === admitted.length;
            }, 5_000);
            const rows = await h.app.db.query<{
              target: string;
              status: string;
              attempts: number;
              last_error_code: string;
            }>(
              `SELECT target, status, attempts, last_error_code FROM outbox WHERE channel = 'otp_sms' AND target = ANY($1)`,
              [phones],
            );
            expect(rows.rows.map((x) => x.target).sort()).toEqual([...admitted].sort());
            for (const row of rows.rows) {
              expect(row).toMatchObject({ status: 'blocked', attempts: 1 });
              expect(['provider_uncertain', 'otp_deadline']).toContain(row.last_error_code);
            }
            expect(shed.length + admitted.length).toBe(50);
            // At most one provider call per admitted start (never a retry): the fake's count is the
            // server's view; a row's code is the client's, which differs only for a call cut at its
            // very deadline.
            const c = fake.requestCount - calls;
            expect(c).toBeLessThanOrEqual(admitted.length);
            called += c;

            if (f === 0) continue;
            if (percentile(before, 0.99) >= 50) {
              busyWindows++;
              continue;
            }
            good++;
            during.push(...latencies);
            baseline.push(...before);
          }

          // Nothing was queued for later: no OTP row comes back to a lane, and Twilio hears nothing more.
          const callsAfter = fake.requestCount;
          fake.clearFault();
          await new Promise((r) => setTimeout(r, 600));
          expect(fake.requestCount).toBe(callsAfter);

          during.sort((x, y) => x - y);
          baseline.sort((x, y) => x - y);
          answered.sort((x, y) => x - y);
          const p99 = during.length ? percentile(during, 0.99) : Infinity;
          const f = (xs: number[], p: number) => (xs.length ? percentile(xs, p).toFixed(1) : '-');
          console.log(
            `[${kind}] ${good + busyWindows + 1} floods of 50 otp starts (1 warm-up, ${busyWindows} in windows where the LAN alone missed 50 ms): answer max ${Math.round(answered.at(-1)!)} ms, p50 ${Math.round(percentile(answered, 0.5))} ms; provider calls ${called}; ` +
              `in_app enqueue→device during the ${good} measured: n=${during.length} p50 ${f(during, 0.5)} ms p99 ${f(during, 0.99)} ms max ${f(during, 1)} ms; ` +
              `without OTP, same windows: n=${baseline.length} p50 ${f(baseline, 0.5)} ms p99 ${f(baseline, 0.99)} ms`,
          );
          // The acceptance bound, outright (see the comment at WINDOWS for how it is measured).
          expect(
            good,
            `only ${good} of ${WINDOWS} windows in which LAN traffic alone stayed under 50 ms (${busyWindows} did not): too busy to measure`,
          ).toBe(WINDOWS);
          expect(during.length).toBeGreaterThanOrEqual(200);
          expect(p99).toBeLessThan(50);
        },
      );
    });
  });
}
