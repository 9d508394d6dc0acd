import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';

describe('headers and transport [pglite]', () => {
  let app: TestApp;
  let open: TestApp;
  beforeAll(async () => {
    app = await createTestApp('pglite');
    open = await createTestApp('pglite', { env: { COMMS_CORS_ORIGINS: 'https://panel.example.az' } });
  });
  afterAll(async () => {
    await app.close();
    await open.close();
  });

  it('sends security headers on API answers and errors', async () => {
    for (const url of ['/healthz', '/api/v1/nothing']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(String(r.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      expect(r.headers['strict-transport-security']).toBeDefined();
    }
  });

  it('keeps CORS closed by default and opens it only to configured origins', async () => {
    const pre = {
      method: 'OPTIONS' as const,
      url: '/api/v1/outbox',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    };
    const closed = await app.inject(pre);
    expect(closed.headers['access-control-allow-origin']).toBeUndefined();
    const other = await open.inject(pre);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await open.inject({
      ...pre,
      headers: { ...pre.headers, origin: 'https://panel.example.az' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://panel.example.az');
  });

  it('gives every answer a request id, echoes a sane incoming one, and puts it in errors and log lines', async () => {
    const r = await app.inject({
      method: 'GET',
      url: '/api/v1/outbox',
      headers: { 'x-request-id': 'pos-7f3a' },
    });
    expect(r.headers['x-request-id']).toBe('pos-7f3a');
    expect(r.json()).toMatchObject({ error: 'unauthorized', requestId: 'pos-7f3a' });
    const bad = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'bad id with spaces\n' },
    });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // Fastify logs "incoming request" and "request completed" for it, both carrying the id.
    expect(app.logs.parsed().filter((l) => l.reqId === 'pos-7f3a').length).toBeGreaterThanOrEqual(2);
    const requestLines = app.logs.parsed().filter((l) => l.req !== undefined || l.res !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    for (const l of requestLines) expect(typeof l.reqId).toBe('string');
  });
});
