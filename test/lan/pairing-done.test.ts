import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { PAIRING_ALPHABET } from '../../src/lan/pairing.ts';
import { DeviceClient, type DoneEvent, type Notification } from '../../src/device-sdk/index.ts';
import { listenLan, rowStatus } from './helpers.ts';

interface Audit {
  events: { actor: string; action: string; from: string | null; to: string | null }[];
}

/** A device client that records what it hears. */
class Screen {
  readonly got: Notification[] = [];
  readonly done: DoneEvent[] = [];
  readonly undo: DoneEvent[] = [];
  readonly errors: string[] = [];
  readonly internet: string[] = [];
  readonly client: DeviceClient;
  constructor(ws: string, token: string, after: number | null = null) {
    this.client = new DeviceClient({ url: ws, token, after, heartbeatMs: 1_000 });
    this.client.on('notification', (n) => this.got.push(n));
    this.client.on('done', (d) => this.done.push(d));
    this.client.on('undo', (d) => this.undo.push(d));
    this.client.on('protocolError', (e) => this.errors.push(e.error));
    this.client.on('internet', (s) => this.internet.push(s));
  }
}

for (const kind of await drivers()) {
  describe(`pairing codes, done/undo and internet state [${kind}]`, () => {
    let app: TestApp;
    let ws: string;
    const screens: Screen[] = [];
    let addr = 0;
    /** Each call from its own client address, unless one is given (the rate limit is per address). */
    const pair = (code: unknown, remoteAddress = `10.0.0.${++addr}`) =>
      app.inject({ method: 'POST', url: '/api/v1/lan/pair', payload: { code }, remoteAddress });
    const newCode = async (body: Record<string, unknown> = { role: 'kitchen', name: 'Kitchen screen' }) => {
      const r = await app.as(app.ownerToken, { method: 'POST', url: '/api/v1/lan/pairings', payload: body });
      expect(r.statusCode, r.body).toBe(201);
      return r.json() as { code: string; expiresAt: string; url: string };
    };
    const pairingAudit = async () =>
      (
        await app.db.query<{ entity_id: string; action: string; actor: string; detail: unknown }>(
          `SELECT entity_id, action, actor, detail FROM audit_events WHERE entity = 'pairing' ORDER BY id`,
        )
      ).rows;

    beforeAll(async () => {
      app = await createTestApp(kind, { modules: [lanModule()] });
      ws = (await listenLan(app)).ws;
    });
    afterAll(async () => {
      for (const s of screens) s.client.close();
      await app.close();
    });

    it('an owner code pairs one device once; the code is hashed, never listed, and both steps are audited', async () => {
      const c = await newCode();
      expect(c.code).toMatch(new RegExp(`^[${PAIRING_ALPHABET}]{8}$`));
      expect(new Date(c.expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
      expect(c.url).toMatch(new RegExp(`/device#code=${c.code}$`));
      const r = await pair(c.code.toLowerCase().replace(/^(....)/, '$1-'));
      expect(r.statusCode, r.body).toBe(201);
      const d = r.json() as { deviceId: string; role: string; name: string; token: string };
      expect(d).toMatchObject({ role: 'kitchen', name: 'Kitchen screen' });
      expect(d.deviceId).toMatch(/^kitchen-[0-9a-f]{8}$/);
      // The token works on the socket.
      const s = new Screen(ws, d.token);
      screens.push(s);
      expect((await s.client.connect()).device).toBe(d.deviceId);
      // Single use.
      const again = await pair(c.code);
      expect(again.statusCode).toBe(400);
      expect(again.json()).toMatchObject({ error: 'pairing_code_invalid' });
      // Stored as a hash only; nothing lists it back.
      const stored = await app.db.query<{ code_hash: string }>('SELECT code_hash FROM lan_pairings');
      expect(JSON.stringify(stored.rows)).not.toContain(c.code);
      const audit = await pairingAudit();
      expect(JSON.stringify(audit)).not.toContain(c.code);
      expect(audit.map((a) => [a.action, a.actor])).toEqual([
        ['created', 'owner:acme-owner'],
        ['used', `device:${d.deviceId}`],
      ]);
      const listed = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/devices' });
      expect(listed.body).not.toContain(c.code);
    });

    it('an expired code is refused', async () => {
      const c = await newCode();
      await app.db.query(
        `UPDATE lan_pairings SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`,
      );
      expect((await pair(c.code)).json()).toMatchObject({ error: 'pairing_code_invalid' });
    });

    it('five wrong tries (from any addresses) kill the open code, audited', async () => {
      const c = await newCode();
      const wrong = c.code.startsWith('A') ? 'BBBBBBBB' : 'AAAAAAAA';
      for (let i = 0; i < 5; i++) expect((await pair(wrong)).statusCode).toBe(400);
      const r = await pair(c.code);
      expect(r.json()).toMatchObject({ error: 'pairing_code_invalid' });
      expect((await pairingAudit()).at(-1)).toMatchObject({ action: 'killed', actor: 'system:pairing' });
    });

    it('pairing is rate-limited per client address', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await pair('ZZZZZZZZ', '10.9.9.9')).statusCode);
      expect(statuses.slice(0, 10).every((s) => s === 400)).toBe(true);
      const limited = await pair('ZZZZZZZZ', '10.9.9.9');
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ error: 'rate_limited' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Another address is not affected.
      expect((await pair('ZZZZZZZZ', '10.9.9.10')).statusCode).toBe(400);
    });

    it('bad bodies get clear 4xx answers', async () => {
      for (const payload of [
        {},
        { code: 12345678 },
        { code: 'x'.repeat(40) },
        { code: 'ABCDEFGH', extra: 1 },
        JSON.parse('{"__proto__":{"code":"A"}}'),
      ]) {
        const r = await app.inject({
          method: 'POST',
          url: '/api/v1/lan/pair',
          payload,
          remoteAddress: `10.1.0.${++addr}`,
        });
        expect(r.statusCode, JSON.stringify(payload)).toBe(400);
        // `__proto__` keys are refused before validation (bad_request); the rest fail the schema.
        expect(['validation_failed', 'bad_request']).toContain((r.json() as { error: string }).error);
      }
      const bad = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/pairings',
        payload: { role: 'chef', name: 'x' },
      });
      expect(bad.json()).toMatchObject({ error: 'validation_failed' });
      const unknown = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/pairings',
        payload: { role: 'pos', name: 'x', deviceId: 'nope' },
      });
      expect(unknown.json()).toMatchObject({ error: 'not_found' });
    });

    it('re-pairing an existing device gives it a new token (the old one stops)', async () => {
      const first = (await pair((await newCode({ role: 'pos', name: 'POS 7' })).code)).json() as {
        deviceId: string;
        token: string;
      };
      const second = await pair(
        (await newCode({ role: 'pos', name: 'POS 7', deviceId: first.deviceId })).code,
      );
      expect(second.json()).toMatchObject({ deviceId: first.deviceId });
      const s = new Screen(ws, first.token);
      await expect(s.client.connect()).rejects.toThrow(/unauthorized|hub_unreachable/);
    });

    it('done by one screen shows "done by" on the other, makes the row read (actor device:<id>), undo restores both', async () => {
      const a = (await pair((await newCode({ role: 'waiter', name: 'Tablet A' })).code)).json() as {
        deviceId: string;
        token: string;
      };
      const b = (await pair((await newCode({ role: 'waiter', name: 'Tablet B' })).code)).json() as {
        deviceId: string;
        token: string;
      };
      const sa = new Screen(ws, a.token);
      const sb = new Screen(ws, b.token);
      screens.push(sa, sb);
      await sa.client.connect();
      await sb.client.connect();
      const post = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: {
          target: { role: 'waiter' },
          title: 'Table 4 food ready',
          body: 'Two plov',
          source: 'kitchen',
        },
      });
      const id = (post.json() as { id: string }).id;
      await waitFor(async () => sa.got.length === 1 && sb.got.length === 1);
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'delivered');
      expect(sa.client.done(sa.got[0]!.seq)).toBe(true);
      await waitFor(async () => sa.done.length === 1 && sb.done.length === 1);
      expect(sb.done[0]).toMatchObject({
        id,
        seq: sb.got[0]!.seq,
        by: a.deviceId,
        byName: 'Tablet A',
        byOther: true,
      });
      expect(sa.done[0]).toMatchObject({ id, by: a.deviceId, byOther: false });
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'read');
      const audit = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as Audit;
      expect(audit.events.at(-1)).toMatchObject({
        actor: `device:${a.deviceId}`,
        action: 'device_done',
        from: 'delivered',
        to: 'read',
      });

      // The second screen is too late: it is told who has it, nothing changes for anyone else.
      sb.client.done(sb.got[0]!.seq);
      await waitFor(async () => sb.done.length === 2);
      expect(sb.done[1]).toMatchObject({ by: a.deviceId });
      expect(sa.done).toHaveLength(1);

      // A device that replays the entry sees it done.
      const replay = new Screen(ws, b.token, 0);
      screens.push(replay);
      sb.client.close();
      await replay.client.connect();
      await waitFor(async () => replay.got.length === 1);
      expect(replay.got[0]!.done).toMatchObject({ by: a.deviceId, byName: 'Tablet A' });

      // Undo from the other screen restores it everywhere, audited.
      replay.client.undo(replay.got[0]!.seq);
      await waitFor(async () => sa.undo.length === 1 && replay.undo.length === 1);
      const after = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as Audit;
      expect(after.events.at(-1)).toMatchObject({ actor: `device:${b.deviceId}`, action: 'device_undo' });
      expect(await rowStatus(app, app.ownerToken, id)).toBe('read');
      // Undo twice: not done any more.
      replay.client.undo(replay.got[0]!.seq);
      await waitFor(async () => replay.errors.includes('not_done'));

      // Done again, then more than 5 minutes pass: undo is refused.
      sa.client.done(sa.got[0]!.seq);
      await waitFor(async () => sa.done.length === 2);
      await app.db.query(`UPDATE lan_done SET done_at = now() - interval '6 minutes'`);
      await new Promise((r) => setTimeout(r, 1_100)); // protocol errors are sent at most once a second
      sa.client.undo(sa.got[0]!.seq);
      await waitFor(async () => sa.errors.includes('undo_expired'));
      // An entry the device does not have.
      await new Promise((r) => setTimeout(r, 1_100));
      sa.client.done(999);
      await waitFor(async () => sa.errors.includes('unknown_seq'));
    });

    it('hello carries the internet state; a change is pushed and readiness shows the same', async () => {
      const d = (await pair((await newCode({ role: 'pos', name: 'POS net' })).code)).json() as {
        token: string;
      };
      const s = new Screen(ws, d.token);
      screens.push(s);
      const hello = await s.client.connect();
      expect(hello.internet).toBe('unknown');
      const state = app.rt.state as { internet: () => 'up' | 'down' | 'unknown' };
      const real = state.internet;
      state.internet = () => 'down';
      try {
        await waitFor(async () => s.internet.includes('down'), 5_000);
        const r = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
          internet: string;
        };
        expect(r.internet).toBe('down');
      } finally {
        state.internet = real;
      }
    });
  });
}
