import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, testConfig, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { connectDevice, listenLan, registerDevice, rowStatus, type RecordingDevice } from './helpers.ts';
import { hungOnlineAdapters, LIVE_PROVIDER_ENV, type HungAdapters } from './hung-adapters.ts';

// Hung calls last the full provider timeout (10 s): a LAN path that waited on one would take that long.
const ENV = {
  ...LIVE_PROVIDER_ENV,
  COMMS_PROVIDER_TIMEOUT_MS: '10000',
  OTP_TIMEOUT_MS: '10000',
  COMMS_ONLINE_CONCURRENCY: '4',
};

for (const kind of await drivers()) {
  describe(`in_app delivery while every online provider hangs [${kind}]`, () => {
    let app: TestApp;
    let hung: HungAdapters;
    let device: RecordingDevice;
    beforeAll(async () => {
      hung = hungOnlineAdapters(testConfig(ENV, { canaries: true }));
      app = await createTestApp(kind, { modules: [lanModule()], env: ENV, adapterOverrides: hung.overrides });
      const { ws } = await listenLan(app);
      device = await connectDevice(ws, await registerDevice(app, app.ownerToken, 'pos-1', 'pos'));
    });
    afterAll(async () => {
      await device.close();
      await app.close();
    });

    it('the online lanes are live and full of calls that never return; LAN notifications still arrive at once and end delivered', async () => {
      const online = [
        { channel: 'whatsapp', target: '+994501234567', body: 'Salam' },
        { channel: 'telegram', target: '123456789', body: 'Salam' },
        { channel: 'email', target: 'owner@example.az', subject: 'Hesabat', body: 'Salam' },
      ];
      for (let i = 0; i < 12; i++) {
        for (const m of online) {
          const r = await app.as(app.ownerToken, {
            method: 'POST',
            url: '/api/v1/outbox',
            payload: { ...m, source: 'hung_test' },
          });
          expect(r.statusCode, r.body).toBe(202);
        }
      }
      // Every online lane holds as many hung calls as it may (its concurrency), and they stay hung.
      await waitFor(
        async () =>
          hung.started.whatsapp_cloud! >= 4 && hung.started.telegram_bot! >= 4 && hung.started.smtp! >= 4,
      );
      const mode = (
        await app.db.query<{ mode: string }>(`SELECT DISTINCT mode FROM outbox WHERE channel <> 'in_app'`)
      ).rows;
      expect(mode.map((m) => m.mode)).toEqual(['live']);

      // 100 in_app rows, one after another, each timed from the POST to the device's receipt.
      // Counted from what the device already holds, so a retry of this test measures its own rows.
      const base = device.got.length;
      const latencies: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        const r = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/lan/notifications',
          payload: {
            target: { device: 'pos-1' },
            title: `Ticket ${i}`,
            body: 'ready',
            source: 'kitchen_desktop',
          },
        });
        expect(r.statusCode).toBe(202);
        await device.waitForCount(base + i + 1, 5_000);
        expect(device.got[base + i]!.id).toBe((r.json() as { id: string }).id);
        latencies.push(device.gotAt[base + i]! - t0);
      }
      expect(Math.min(...latencies)).toBeGreaterThan(0);
      const sorted = [...latencies].sort((a, b) => a - b);
      const p99 = sorted[Math.ceil(sorted.length * 0.99) - 1]!;
      console.log(
        `[${kind}] 100 in_app rows with every online lane hung: p50 ${sorted[49]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted[99]!.toFixed(1)} ms`,
      );
      expect(p99).toBeLessThan(50);
      // Every online lane still has calls in flight that never came back.
      const inFlight = await app.db.query<{ adapter: string }>(
        `SELECT DISTINCT adapter FROM outbox WHERE channel <> 'in_app' AND status = 'sending' ORDER BY adapter`,
      );
      expect(inFlight.rows.map((r) => r.adapter)).toEqual(['smtp', 'telegram_bot', 'whatsapp_cloud']);
      for (const n of device.got)
        await waitFor(async () => (await rowStatus(app, app.ownerToken, n.id)) === 'delivered');
      // Still nothing came back from any online provider.
      const settled = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE channel <> 'in_app' AND status IN ('sent', 'delivered', 'mock_sent')`,
      );
      expect(Number(settled.rows[0]!.n)).toBe(0);
    }, 60_000);
  });
}
