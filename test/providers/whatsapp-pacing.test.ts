import { describe, expect, it } from 'vitest';
import { providersModule } from '../../src/providers/module.ts';
import { startWhatsAppFake, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, attemptsOf, enqueue, rowState, settled } from './helpers.ts';

/**
 * Acceptance 5 of the 2026 WhatsApp work: Meta's pair rate limit (131056) and per-number throughput
 * limit (130429), answered by the fake from its own limits (overlay limit.pair / limit.throughput),
 * make rows wait and retry at the provider's pace; nothing ends dead. The fake's limits are scaled
 * down (a burst of 1 per recipient, 1 send/s for the number) so a test takes seconds.
 */
const PHONE_ID = '106540352242922';
let seq = 0;
const freshTo = () => `+99455${6_000_000 + ++seq}`;
const template = (n: number) => ({
  template: 'daily_owner_report',
  data: { whatsappTemplate: 'daily_report', language: 'az', params: [String(n), '1.00 ₼'] },
});

/** Waits until the row has ended (a failed row waiting for its retry has not). */
const ended = (app: TestApp, id: string) =>
  waitFor(async () => {
    const s = await rowState(app, id);
    return ['ready', 'sending', 'failed'].includes(s.status) ? null : s;
  }, 45_000);

async function appWith(
  kind: Awaited<ReturnType<typeof drivers>>[number],
  fake: WhatsAppFake,
): Promise<TestApp> {
  return createTestApp(kind, {
    env: {
      ...LIVE_ENV,
      WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
      WHATSAPP_API_VERSION: 'v23.0',
      WHATSAPP_GRAPH_BASE_URL: fake.url,
    },
    modules: [providersModule()],
  });
}

const startFake = (limits: NonNullable<Parameters<typeof startWhatsAppFake>[0]['limits']>) =>
  startWhatsAppFake({
    accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    phoneNumberId: PHONE_ID,
    appSecret: CANARIES.WHATSAPP_APP_SECRET!,
    limits,
  });

for (const kind of await drivers()) {
  describe(`WhatsApp pacing limits through the real dispatcher [${kind}]`, () => {
    it('131056 (pair rate): rows to one customer wait the pair interval and go out one by one; another customer is not held back', async () => {
      const fake = await startFake({ pairBurst: 1, pairIntervalMs: 6_000, throughputPerSecond: 1_000 });
      const app = await appWith(kind, fake);
      try {
        const to = freshTo();
        const ids: string[] = [];
        for (let i = 0; i < 3; i++)
          ids.push(await enqueue(app, { channel: 'whatsapp', target: to, ...template(i) }));
        // Every row to `to` after the first meets the pair limit at least once.
        await expect.poll(() => fake.limitRefusals[131056], { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
        const other = await enqueue(app, { channel: 'whatsapp', target: freshTo(), ...template(9) });
        const o = await settled(app, other);
        expect(o).toMatchObject({ status: 'sent', attempts: 1 });

        const finals = [];
        for (const id of ids) finals.push(await ended(app, id));
        expect(finals.map((s) => s.status)).toEqual(['sent', 'sent', 'sent']);
        const sentAt: number[] = [];
        for (const id of ids) {
          const attempts = await attemptsOf(app, id);
          // Only the pair limit stood in the way, never a dead end or another error.
          expect(
            attempts
              .slice(0, -1)
              .every((a) => a.error_code === 'whatsapp_131056' && a.outcome === 'rate_limited'),
          ).toBe(true);
          expect(attempts.at(-1)!.outcome).toBe('sent');
          sentAt.push(new Date(attempts.at(-1)!.finished_at).getTime());
        }
        // At the provider's pace: sends to the one customer are at least the pair interval apart.
        sentAt.sort((a, b) => a - b);
        for (let i = 1; i < sentAt.length; i++)
          expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(5_500);
      } finally {
        await app.close();
        await fake.close();
      }
    }, 90_000);

    it("130429 (number throughput): the whole lane waits the provider's pause (shared pace), then every row goes out; nothing dead", async () => {
      const fake = await startFake({ throughputPerSecond: 0.5 });
      const app = await appWith(kind, fake);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++)
          ids.push(await enqueue(app, { channel: 'whatsapp', target: freshTo(), ...template(i) }));
        const finals = [];
        for (const id of ids) finals.push(await ended(app, id));
        expect(finals.map((s) => s.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
        expect(fake.limitRefusals[130429]).toBeGreaterThanOrEqual(1);
        // After each throughput refusal no request reached the number for the provider's wait (2 s):
        // the lane, and through dispatch_pace every dispatcher of this adapter, held back.
        const requests = [...fake.receipts.map((r) => r.at), ...fake.rejections.map((r) => r.at)].sort(
          (a, b) => a - b,
        );
        for (const refusedAt of fake.rejections.filter((r) => r.code === 130429).map((r) => r.at)) {
          const next = requests.find((t) => t > refusedAt);
          if (next !== undefined) expect(next - refusedAt).toBeGreaterThanOrEqual(1_900);
        }
        const pace = await app.db.query<{ adapter: string }>(
          `SELECT adapter FROM dispatch_pace WHERE adapter = 'whatsapp_cloud'`,
        );
        expect(pace.rows).toHaveLength(1);
        for (const id of ids) {
          for (const a of (await attemptsOf(app, id)).slice(0, -1))
            expect(a.error_code).toBe('whatsapp_130429');
        }
      } finally {
        await app.close();
        await fake.close();
      }
    }, 90_000);
  });
}
