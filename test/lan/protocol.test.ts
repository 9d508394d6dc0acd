import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { CLOSE } from '../../src/lan/protocol.ts';
import { originAllowed, parseOrigins } from '../../src/lan/ws-server.ts';
import { connectDevice, listenLan, rawSocket, registerDevice, type RecordingDevice } from './helpers.ts';

const PING_MS = 200;

describe('origin rule', () => {
  const allowed = parseOrigins(' https://pos.example.az/ ,http://192.168.1.20:5173');
  it.each<[string | undefined, boolean, string]>([
    [undefined, true, 'a native device sends no Origin'],
    ['https://pos.example.az', true, 'listed'],
    ['HTTPS://POS.EXAMPLE.AZ', true, 'listed, other case'],
    ['http://192.168.1.20:5173', true, 'listed LAN page'],
    ['http://hub.local:8080', true, 'the hub itself (owner panel)'],
    ['https://evil.example', false, 'another site'],
    ['null', false, 'sandboxed or file page'],
    ['http://hub.local:8081', false, 'same host, other port'],
  ])('%s → %s (%s)', (origin, ok) => {
    expect(originAllowed(origin, 'hub.local:8080', allowed)).toBe(ok);
  });
});

for (const kind of await drivers()) {
  describe(`LAN socket protocol and bad input [${kind}]`, () => {
    let app: TestApp;
    let url: { http: string; ws: string };
    let token: string;
    const open: RecordingDevice[] = [];
    beforeAll(async () => {
      app = await createTestApp(kind, {
        // A slow refill, so the HTTP rate-limit check does not depend on how fast this box is.
        modules: [lanModule({ devicePostRate: { burst: 20, perSecond: 0.2 } })],
        env: {
          LAN_PING_INTERVAL_MS: String(PING_MS),
          LAN_MAX_MESSAGE_BYTES: '1024',
          LAN_ALLOWED_ORIGINS: 'https://pos.example.az',
        },
      });
      url = await listenLan(app);
      token = await registerDevice(app, app.ownerToken, 'pos-1', 'pos');
    });
    afterAll(async () => {
      for (const d of open) await d.close();
      await app.close();
    });

    it('every LAN route is described in /openapi.json', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, Record<string, unknown>>;
      };
      const lanRoutes = app.rt.http!.collectedRoutes.filter((r) => r.url.startsWith('/api/v1/lan/'));
      expect(lanRoutes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
        'DELETE /api/v1/lan/devices/:id',
        'GET /api/v1/lan/devices',
        'GET /api/v1/lan/printers',
        'GET /api/v1/lan/ws',
        'PATCH /api/v1/lan/devices/:id',
        'POST /api/v1/lan/devices',
        'POST /api/v1/lan/devices/:id/token',
        'POST /api/v1/lan/notifications',
        'POST /api/v1/lan/pair',
        'POST /api/v1/lan/pairings',
        'POST /api/v1/lan/printers/:id/held/:seq/:action',
        'POST /api/v1/lan/prints/:outboxId/reprint',
        'PUT /api/v1/lan/printers/settings',
      ]);
      for (const r of lanRoutes)
        expect(
          doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()],
          `${r.method} ${r.url}`,
        ).toBeDefined();
    });

    it('device registration refuses bad input with stable codes', async () => {
      const post = (payload: unknown, tok = app.ownerToken) =>
        app.as(tok, { method: 'POST', url: '/api/v1/lan/devices', payload: payload as object });
      const cases: [unknown, number, string][] = [
        [{ id: 'POS-1', role: 'pos', name: 'x' }, 400, 'validation_failed'],
        [{ id: 'pos 1', role: 'pos', name: 'x' }, 400, 'validation_failed'],
        [{ id: 'a'.repeat(65), role: 'pos', name: 'x' }, 400, 'validation_failed'],
        [{ id: 'pos-9', role: 'cashier', name: 'x' }, 400, 'validation_failed'],
        [{ id: 'pos-9', role: 'pos' }, 400, 'validation_failed'],
        [{ id: 'pos-9', role: 'pos', name: '   ' }, 400, 'validation_failed'],
        [{ id: 'pos-9', role: 'pos', name: 'x'.repeat(101) }, 400, 'validation_failed'],
        [{ id: 'pos-9', role: 'pos', name: 'x', token: 'mine' }, 400, 'validation_failed'],
        [{ id: 'pos-1', role: 'pos', name: 'again' }, 409, 'device_exists'],
        [[], 400, 'validation_failed'],
      ];
      for (const [payload, status, code] of cases) {
        const res = await post(payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(status);
        expect((res.json() as { error: string }).error).toBe(code);
      }
      const bad = await app.inject({
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: '{"id":',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${app.ownerToken}` },
      });
      expect(bad.statusCode).toBe(400);
      expect((await post({ id: 'pos-9', role: 'pos', name: 'x' }, token)).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/api/v1/lan/devices' })).statusCode).toBe(401);
      expect((await app.as(token, { method: 'GET', url: '/api/v1/lan/devices' })).statusCode).toBe(403);
      expect(
        (await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/NOPE' })).statusCode,
      ).toBe(400);
      expect(
        (await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/nope' })).statusCode,
      ).toBe(404);
    });

    it('notifications refuse bad targets and a device posting too fast gets 429 with Retry-After', async () => {
      const post = (payload: unknown, tok = app.ownerToken) =>
        app.as(tok, { method: 'POST', url: '/api/v1/lan/notifications', payload: payload as object });
      for (const payload of [
        { target: { role: 'cashier' }, title: 't', body: 'b' },
        { target: { device: 'x', role: 'pos' }, title: 't', body: 'b' },
        { target: 'pos-1', title: 't', body: 'b' },
        { target: { device: 'pos-1' }, body: 'b' },
        { target: { device: 'pos-1' }, title: 't', body: 'b'.repeat(2_001) },
        { target: { device: 'pos-1' }, title: 't', body: 'b', source: 'Bad Source' },
      ]) {
        const res = await post(payload);
        expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
        expect((res.json() as { error: string }).error).toBe('validation_failed');
      }
      // 30 in a row: the burst of 20 (plus at most a few refilled) passes, the rest is refused.
      const results = [];
      for (let i = 0; i < 30; i++)
        results.push(
          await post({ target: { device: 'pos-1' }, title: `spam ${i}`, body: 'b', source: 'pos' }, token),
        );
      const codes = results.map((r) => r.statusCode);
      expect(codes.slice(0, 20)).toEqual(Array(20).fill(202));
      const refused = results.filter((r) => r.statusCode === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.json()).toMatchObject({ error: 'rate_limited' });
      expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });

    it('the socket path without an upgrade answers 426; upgrades with a token in the URL, a bad token or a foreign origin are refused', async () => {
      const plain = await app.inject({ method: 'GET', url: '/api/v1/lan/ws' });
      expect(plain.statusCode).toBe(426);
      expect((plain.json() as { error: string }).error).toBe('upgrade_required');

      const inUrl = rawSocket(`${url.ws}?token=${token}`);
      const r1 = await inUrl.refused;
      expect(r1.status).toBe(400);
      expect(r1.body).not.toContain(token);
      const badToken = rawSocket(url.ws, { authorization: 'Bearer mz_device_not-a-real-token-000000' });
      expect(await badToken.refused).toMatchObject({ status: 401 });
      const ownerAsDevice = rawSocket(url.ws, { authorization: `Bearer ${app.ownerToken}` });
      expect((await ownerAsDevice.refused).status).toBe(401);
      const malformed = rawSocket(url.ws, { authorization: 'Basic abc' });
      expect((await malformed.refused).status).toBe(401);
      const foreign = rawSocket(url.ws, { authorization: `Bearer ${token}`, origin: 'https://evil.example' });
      const r2 = await foreign.refused;
      expect(r2.status).toBe(403);
      expect(JSON.parse(r2.body)).toMatchObject({ error: 'origin_not_allowed' });
      const elsewhere = rawSocket(url.ws.replace('/api/v1/lan/ws', '/api/v1/other'), {
        authorization: `Bearer ${token}`,
      });
      expect((await elsewhere.refused).status).toBe(404);

      const listed = await connectDevice(url.ws, token, { origin: 'https://pos.example.az' });
      expect(listed.hello).toMatchObject({ device: 'pos-1' });
      await listed.close();
    });

    it('a browser authenticates with its first message; anything else first closes the socket 4401', async () => {
      const d = await connectDevice(url.ws, token, { auth: 'message', origin: 'https://pos.example.az' });
      open.push(d);
      expect(d.hello).toMatchObject({ device: 'pos-1', role: 'pos' });
      await d.close();
      open.pop();

      const noAuth = rawSocket(url.ws);
      await noAuth.opened;
      noAuth.ws.send(JSON.stringify({ type: 'resume', after: 0 }));
      expect((await noAuth.closed).code).toBe(CLOSE.unauthorized);
      const wrong = rawSocket(url.ws);
      await wrong.opened;
      wrong.ws.send(JSON.stringify({ type: 'auth', token: 'mz_device_wrong-token-000000000000' }));
      expect((await wrong.closed).code).toBe(CLOSE.unauthorized);
      expect(wrong.messages[0]).toMatchObject({ type: 'error', error: 'unauthorized' });
    });

    it('bad messages get an error and keep the socket; an oversized message closes it 1009', async () => {
      const s = rawSocket(url.ws, { authorization: `Bearer ${token}` });
      await s.opened;
      await waitFor(async () => s.messages.some((m) => m.type === 'hello'));
      s.ws.send('not json');
      await waitFor(async () => s.messages.some((m) => m.type === 'error'));
      expect(s.messages.find((m) => m.type === 'error')).toMatchObject({ error: 'bad_message' });
      await new Promise((r) => setTimeout(r, 1_050)); // errors are sent at most once a second
      s.ws.send(JSON.stringify({ type: 'ack', seq: 1 }));
      await waitFor(async () => s.messages.some((m) => m.error === 'not_resumed'));
      s.ws.send(JSON.stringify({ type: 'ping' }));
      await waitFor(async () => s.messages.some((m) => m.type === 'pong'));
      s.ws.send('x'.repeat(2_000));
      expect((await s.closed).code).toBe(CLOSE.tooBig);
    });

    it('hello is the first frame even when the first message is bad (header and first-message auth)', async () => {
      for (let round = 0; round < 5; round++) {
        const s = rawSocket(url.ws, { authorization: `Bearer ${token}` });
        s.ws.once('open', () => s.ws.send('not json'));
        await waitFor(async () => s.messages.some((m) => m.type === 'error'));
        expect(s.messages[0], JSON.stringify(s.messages)).toMatchObject({ type: 'hello', device: 'pos-1' });
        expect(s.messages[1]).toMatchObject({ type: 'error', error: 'bad_message' });
        s.ws.close();
        await s.closed;
      }
      // Auth by first message, and a bad message right behind it (held while the token is checked).
      const b = rawSocket(url.ws, { origin: 'https://pos.example.az' });
      b.ws.once('open', () => {
        b.ws.send(JSON.stringify({ type: 'auth', token }));
        b.ws.send(Buffer.from([1, 2, 3]));
      });
      await waitFor(async () => b.messages.some((m) => m.type === 'error'));
      expect(b.messages[0], JSON.stringify(b.messages)).toMatchObject({ type: 'hello', device: 'pos-1' });
      expect(b.messages[1]).toMatchObject({ type: 'error', error: 'bad_message' });
      b.ws.close();
      await b.closed;
    });

    it("a device's own message flood is dropped with rate_limited and then cut off (4429)", async () => {
      const s = rawSocket(url.ws, { authorization: `Bearer ${token}` });
      await s.opened;
      for (let i = 0; i < 1_000 && s.ws.readyState === s.ws.OPEN; i++) s.ws.send('{"type":"ping"}');
      const closed = await s.closed;
      expect(closed.code).toBe(CLOSE.rateLimited);
      expect(s.messages.some((m) => m.error === 'rate_limited')).toBe(true);
      expect(s.messages.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(210);
    });

    it('a device that stops answering pings is dropped after two missed pongs; a live one stays', async () => {
      const live = await connectDevice(url.ws, token);
      open.push(live);
      const deafToken = await registerDevice(app, app.ownerToken, 'deaf-1', 'printer', 'Deaf printer');
      const deaf = rawSocket(url.ws, { authorization: `Bearer ${deafToken}` }, { autoPong: false });
      await deaf.opened;
      const t0 = Date.now();
      const c = await deaf.closed;
      expect(c.code).toBe(1006);
      // Dropped on the third ping tick (two pings unanswered); the bound leaves room for a busy box.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(PING_MS);
      expect(Date.now() - t0).toBeLessThan(PING_MS * 10);
      expect(live.closes).toEqual([]);
    });

    it('a second connection of the same device replaces the first (4409)', async () => {
      const d1 = open.find((d) => d.hello?.device === 'pos-1' && d.closes.length === 0)!;
      const d2 = await connectDevice(url.ws, token);
      open.push(d2);
      await waitFor(async () => d1.closes.length > 0);
      expect(d1.closes[0]!.code).toBe(CLOSE.replaced);
      expect(d2.closes).toEqual([]);
    });
  });
}
