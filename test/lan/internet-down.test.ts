import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testConfig, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { DeviceClient, type InternetState, type Notification } from '../../src/device-sdk/index.ts';
import { listenLan, registerDevice } from './helpers.ts';
import { hungOnlineAdapters, LIVE_PROVIDER_ENV, type HungAdapters } from './hung-adapters.ts';

// Live online adapters whose calls never return, cut off by a short provider timeout: transport
// failures, the breakers open, and the hub must call its internet down.
const ENV = {
  ...LIVE_PROVIDER_ENV,
  COMMS_PROVIDER_TIMEOUT_MS: '200',
  COMMS_RETRY_BASE_MS: '50',
  COMMS_ONLINE_CONCURRENCY: '4',
};

describe('internet down at the hub: every online provider unreachable [pglite]', () => {
  let app: TestApp;
  let hung: HungAdapters;
  let client: DeviceClient;
  const got: Notification[] = [];
  const states: InternetState[] = [];
  beforeAll(async () => {
    hung = hungOnlineAdapters(testConfig(ENV, { canaries: true }));
    app = await createTestApp('pglite', {
      modules: [lanModule()],
      env: ENV,
      adapterOverrides: hung.overrides,
    });
    const { ws } = await listenLan(app);
    client = new DeviceClient({
      url: ws,
      token: await registerDevice(app, app.ownerToken, 'pos-net', 'pos'),
    });
    client.on('notification', (n) => got.push(n));
    client.on('internet', (s) => states.push(s));
    await client.connect();
  }, 180_000);
  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('devices are told "down", readiness says "down", and notifications still arrive', async () => {
    expect(states).toEqual(['unknown']);
    for (let i = 0; i < 4; i++) {
      for (const m of [
        { channel: 'whatsapp', target: '+994501234567', body: 'Salam' },
        { channel: 'telegram', target: '123456789', body: 'Salam' },
        { channel: 'email', target: 'owner@example.az', subject: 'Hesabat', body: 'Salam' },
      ]) {
        const r = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/outbox',
          payload: { ...m, source: 'net_test' },
        });
        expect(r.statusCode, r.body).toBe(202);
      }
    }
    await waitFor(async () => states.includes('down'), 30_000);
    const r = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
      internet: string;
    };
    expect(r.internet).toBe('down');
    const post = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/notifications',
      payload: { target: { device: 'pos-net' }, title: 'Ticket 9 ready', body: 'Table 2', source: 'kitchen' },
    });
    expect(post.statusCode).toBe(202);
    await waitFor(async () => got.some((n) => n.title === 'Ticket 9 ready'), 5_000);
  });
});
