import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, postgresAvailable, type TestDb } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';

/** A TCP proxy in front of PostgreSQL that the test can cut and restore, like a database outage. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async up(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server!.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

describe.runIf(await postgresAvailable())('PostgreSQL down', () => {
  let base: TestDb;
  let proxy: CuttableProxy;
  let app: TestApp;
  let viaProxy: PostgresDb;

  beforeAll(async () => {
    base = await createTestDb('postgres');
    const u = new URL(base.url!);
    proxy = new CuttableProxy({ host: u.hostname, port: Number(u.port || 5432) });
    await proxy.up();
    u.host = `127.0.0.1:${proxy.port}`;
    viaProxy = await PostgresDb.open(u.toString(), 4);
    app = await createTestApp('postgres', {
      testDb: { ...base, db: viaProxy, cleanup: async () => undefined },
    });
  });
  afterAll(async () => {
    await app.close();
    await proxy.down();
    await viaProxy.close();
    await base.cleanup();
  });

  it('writes answer 503 store_unavailable, nothing half-written, and service resumes when it is back', async () => {
    const ok = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/outbox',
      payload: { channel: 'email', target: 'a@example.az', body: 'before' },
    });
    expect(ok.statusCode).toBe(202);
    await proxy.down();
    const down = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/outbox',
      payload: { channel: 'email', target: 'b@example.az', body: 'during' },
    });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ error: 'store_unavailable' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    await proxy.up(proxy.port);
    const after = await waitFor(
      async () => {
        const r = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/outbox',
          payload: { channel: 'email', target: 'c@example.az', body: 'after' },
        });
        return r.statusCode === 202 ? r : null;
      },
      15_000,
      200,
    );
    expect(after.statusCode).toBe(202);
    const rows = await base.db.query<{ body: string; status: string }>(
      'SELECT body, status FROM outbox ORDER BY created_at',
    );
    expect(rows.rows.map((r) => r.body)).toEqual(['before', 'after']);
    await waitFor(
      async () => {
        const r = await base.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE status = 'mock_sent'`,
        );
        return r.rows[0]!.n === 2;
      },
      15_000,
      100,
    );
  });
});
