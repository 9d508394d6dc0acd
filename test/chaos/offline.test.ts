import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, postgresAvailable, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/runtime.ts';
import { DeviceClient } from '../../src/lan/device-client.ts';
import type { NotificationMessage } from '../../src/lan/protocol.ts';
import { Stack, liveEnv, startFakes, type Fakes, type Tenant } from './stack.ts';

/**
 * Offline survival: the restaurant's internet goes away for OUTAGE_MS (every online fake cut off at
 * once: connections refused). LAN notifications keep reaching the kitchen screen meanwhile; online
 * rows wait and retry without being declared dead, although their retry budget alone (8 attempts,
 * 0.2–2 s backoff: about 9 s) is shorter than the outage: the circuit breaker stops them burning
 * attempts against a provider that is down. When the link returns every row is delivered, and the
 * Telegram backlog drains at the shared pace, under the fake's flood limit: no 429 storm.
 */

const OUTAGE_MS = 20_000;
const TICK_MS = 200;
const TG_BACKLOG = 200;
const TG_LIMIT = 30; // the fake's flood control: 30 messages/s, burst 30 (Telegram's documented bulk limit)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(0.95 * (xs.length - 1))]!;

describe.runIf(await postgresAvailable())('offline survival', () => {
  let tdb: TestDb | null = null;
  let fakes: Fakes | null = null;
  let stack: Stack | null = null;
  let device: DeviceClient | null = null;
  afterAll(async () => {
    await device?.close();
    await stack?.stopAll();
    await fakes?.close();
    await tdb?.cleanup();
  });

  it(`every online provider unreachable for ${OUTAGE_MS / 1000} s: LAN goes on, online rows wait, then drain paced`, async () => {
    tdb = await createTestDb('postgres');
    fakes = await startFakes({ telegramPerSecond: TG_LIMIT });
    stack = new Stack(
      liveEnv(fakes, tdb.url!, {
        DATABASE_POOL_SIZE: '6',
        COMMS_POLL_MS: '200',
        COMMS_LEASE_MS: '15000',
        COMMS_PROVIDER_TIMEOUT_MS: '2000',
        COMMS_RETRY_BASE_MS: '200',
        COMMS_RETRY_CAP_MS: '2000',
        COMMS_MAX_ATTEMPTS: '8',
        // Below the provider's limit, shared by both dispatchers through the database.
        COMMS_PACE: 'telegram_bot=25',
      }),
    );
    await stack.startApi();
    const t: Tenant = await stack.createTenant('offline-a', [{ id: 'kitchen-1', role: 'kitchen' }]);
    await Promise.all([0, 1].map((s) => stack!.startDispatcher(s)));
    const db = new pg.Pool({ connectionString: tdb.url!, max: 2 });

    // The kitchen screen, connected over the LAN WebSocket.
    const received = new Map<string, number>();
    device = new DeviceClient({ url: stack.apiUrl, token: t.devices.get('kitchen-1')!, reconnect: true });
    device.on('notification', (m: NotificationMessage) => received.set(m.id, Date.now()));
    await device.connect();

    let n = 0;
    const enqueued = new Map<string, { channel: string; at: number }>();
    const send = async (channel: 'in_app' | 'whatsapp' | 'telegram' | 'email') => {
      const i = n++;
      const body =
        channel === 'in_app'
          ? { channel, target: 'kitchen-1', title: 'Sifariş', body: `Masa ${i % 30}` }
          : channel === 'whatsapp'
            ? {
                channel,
                target: `+99451${1_000_000 + i}`,
                template: 'daily_owner_report',
                data: { whatsappTemplate: 'order_ready', language: 'az', params: [String(i)] },
              }
            : channel === 'telegram'
              ? { channel, target: String(800_000_000 + i), body: `Hesabat #${i}` }
              : {
                  channel,
                  target: `owner${i}@example.az`,
                  subject: 'Hesabat',
                  body: `Gündəlik hesabat #${i}`,
                };
      const at = Date.now();
      const r = await stack!.request('/api/v1/outbox', {
        token: t.token,
        body: { ...body, source: 'offline_test' },
      });
      expect(r.status).toBe(202);
      enqueued.set(r.json.id as string, { channel, at });
    };
    const ids = (channel?: string) =>
      [...enqueued].filter(([, v]) => !channel || v.channel === channel).map(([id]) => id);
    const online = () => [...enqueued].filter(([, v]) => v.channel !== 'in_app').map(([id]) => id);

    // Online first: everything goes through.
    for (let i = 0; i < 3; i++)
      for (const c of ['in_app', 'whatsapp', 'telegram', 'email'] as const) await send(c);
    await waitFor(
      async () => {
        const r = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE source = 'offline_test' AND status NOT IN ('sent', 'delivered')`,
        );
        return r.rows[0]!.n === 0;
      },
      30_000,
      100,
    );

    // The link goes down.
    for (const p of Object.values(fakes.proxies)) await p.cut();
    const tCut = Date.now();
    const lanDuring: string[] = [];
    let burst = false;
    while (Date.now() - tCut < OUTAGE_MS) {
      const tick = Date.now();
      await send('in_app');
      lanDuring.push(ids('in_app').at(-1)!);
      await send('whatsapp');
      await send('email');
      await send('telegram');
      if (!burst && Date.now() - tCut > 1_000) {
        // A backlog for the pace to drain later: the day's reports, all at once.
        burst = true;
        const r = await stack.request('/api/v1/outbox/batch', {
          token: t.token,
          body: {
            messages: Array.from({ length: TG_BACKLOG }, (_, i) => ({
              channel: 'telegram',
              target: String(900_000_000 + i),
              body: `Hesabat ${i}`,
              source: 'offline_test',
            })),
          },
        });
        expect(r.status).toBe(202);
        for (const it of r.json.items as { id: string }[])
          enqueued.set(it.id, { channel: 'telegram', at: Date.now() });
      }
      await sleep(Math.max(0, TICK_MS - (Date.now() - tick)));
    }

    // Still offline: the kitchen got every LAN notification, promptly.
    await waitFor(() => Promise.resolve(lanDuring.every((id) => received.has(id))), 5_000, 50);
    const lanLatency = lanDuring.map((id) => received.get(id)! - enqueued.get(id)!.at);
    // Online rows are waiting (failed / ready), none dead, none sent, attempts far from spent.
    const waiting = await db.query<{ status: string; n: number; max_attempts: number }>(
      `SELECT status, count(*)::int AS n, max(attempts)::int AS max_attempts FROM outbox
       WHERE id = ANY($1::uuid[]) AND created_at >= to_timestamp($2::float8 / 1000) GROUP BY status`,
      [online(), tCut],
    );
    const offlineAttempts = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox_attempts WHERE outbox_id = ANY($1::uuid[]) AND started_at >= to_timestamp($2::float8 / 1000)`,
      [online(), tCut],
    );
    const sentOffline = fakes.wa.receipts.length + fakes.tg.receipts.length + fakes.smtp.received.length;

    // The link returns.
    for (const p of Object.values(fakes.proxies)) await p.up();
    const tBack = Date.now();
    await waitFor(
      async () => {
        const r = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::uuid[]) AND status <> 'sent'`,
          [online()],
        );
        return r.rows[0]!.n === 0;
      },
      180_000,
      200,
    );
    const tDrained = Date.now();

    // Nothing lost: every online row reached its provider (by outbox id / our text).
    const got = new Set<string>([
      ...fakes.wa.receipts.map((r) => String(r.body.message.biz_opaque_callback_data)),
      ...fakes.smtp.received.map((m) => String(m.mail.headers.get('x-mupza-outbox-id'))),
    ]);
    const tgTexts = new Set(fakes.tg.receipts.map((r) => String(r.body.message.text)));
    const tgRows = await db.query<{ id: string; body: string }>(
      `SELECT id::text, body FROM outbox WHERE id = ANY($1::uuid[])`,
      [ids('telegram')],
    );
    for (const r of tgRows.rows) if (tgTexts.has(r.body)) got.add(r.id);
    const lost = online().filter((id) => !got.has(id));

    // Pacing: no 429 from the fake, and no second of the drain above its limit.
    const tg429 = fakes.tg.rejections.filter((r) => r.status === 429).length;
    const tgAt = fakes.tg.receipts
      .map((r) => r.at)
      .filter((a) => a >= tBack)
      .sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; i < tgAt.length; i++) {
      while (tgAt[i]! - tgAt[j]! >= 1_000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    const drainRate = tgAt.length / ((tgAt.at(-1)! - tgAt[0]!) / 1000);
    console.log(
      `offline survival: ${OUTAGE_MS / 1000} s outage; LAN ${lanDuring.length} notifications during it, p95 ${p95(lanLatency)} ms to the screen; ` +
        `online rows then ${JSON.stringify(waiting.rows)}, ${offlineAttempts.rows[0]!.n} attempts in the outage for ${online().length} rows; ` +
        `back online: drained in ${((tDrained - tBack) / 1000).toFixed(1)} s, telegram ${tgAt.length} at ${drainRate.toFixed(1)}/s (peak ${peak} in 1 s, limit ${TG_LIMIT}/s), 429s ${tg429}; lost ${lost.length}`,
    );

    expect(lanLatency.length).toBeGreaterThan(OUTAGE_MS / TICK_MS / 2);
    expect(p95(lanLatency)).toBeLessThan(1_000);
    expect(sentOffline).toBe((12 / 4) * 3); // only the 9 online messages from before the cut
    expect(waiting.rows.filter((r) => r.status === 'dead' || r.status === 'sent')).toEqual([]);
    expect(Math.max(...waiting.rows.map((r) => r.max_attempts))).toBeLessThan(8);
    expect(lost).toEqual([]);
    expect(tg429).toBe(0);
    expect(peak).toBeLessThanOrEqual(2 * TG_LIMIT);
    await db.end();
    stack.scanOutput();
    expect(stack.crashes).toEqual([]);
  }, 600_000);
});
