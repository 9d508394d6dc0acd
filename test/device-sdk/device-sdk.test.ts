import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import {
  backoffDelay,
  DeviceClient,
  type ConnectionEvent,
  type DoneEvent,
  type Notification,
  type SocketLike,
} from '../../src/device-sdk/index.ts';
import { listenLan, registerDevice } from '../lan/helpers.ts';

describe('device SDK: jittered backoff', () => {
  it('attempt n waits between half and all of min(max, base * 2^n)', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(15_000, 500 * 2 ** attempt);
      expect(backoffDelay(attempt, {}, () => 0)).toBe(cap / 2);
      expect(backoffDelay(attempt, {}, () => 0.999999)).toBeCloseTo(cap, -1);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt);
        expect(d).toBeGreaterThanOrEqual(cap / 2);
        expect(d).toBeLessThanOrEqual(cap);
      }
    }
    expect(backoffDelay(100, { baseMs: 100, maxMs: 2_000 }, () => 1)).toBe(2_000);
  });

  it('is jittered: devices that dropped together do not come back together', () => {
    const waits = new Set(Array.from({ length: 100 }, () => backoffDelay(4)));
    expect(waits.size).toBeGreaterThan(50);
  });

  it('the client reports each failed attempt with a jittered, growing wait, and stops on close()', async () => {
    const events: ConnectionEvent[] = [];
    let tries = 0;
    const refusing = (): SocketLike => {
      tries++;
      const s: SocketLike = {
        readyState: 3,
        send: () => undefined,
        close: () => undefined,
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
      };
      setTimeout(() => s.onclose?.({ code: 1006, reason: '' }), 1);
      return s;
    };
    const c = new DeviceClient({
      url: 'http://127.0.0.1:9',
      token: 'x'.repeat(20),
      socket: refusing,
      baseMs: 10,
      maxMs: 80,
      random: () => 0.5,
    });
    c.on('connection', (e) => events.push(e));
    void c.connect().catch(() => undefined);
    await waitFor(async () => tries >= 5, 5_000, 5);
    c.close();
    const waits = events
      .filter((e) => e.state === 'closed' && e.retryInMs !== undefined)
      .map((e) => e.retryInMs);
    expect(waits.slice(0, 4)).toEqual([8, 15, 30, 60]);
    expect(events.filter((e) => e.cause === 'hub_unreachable').length).toBeGreaterThanOrEqual(4);
    expect(events.at(-1)).toMatchObject({ state: 'closed', cause: 'stopped' });
    const before = tries;
    await new Promise((r) => setTimeout(r, 200));
    expect(tries).toBe(before);
  });
});

describe('device SDK against a real hub [pglite]', () => {
  let app: TestApp;
  let ws: string;
  const clients: DeviceClient[] = [];
  const post = (title: string, target: Record<string, string>, source = 'kitchen') =>
    app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/notifications',
      payload: { target, title, body: title, source },
    });
  const track = (c: DeviceClient) => {
    clients.push(c);
    const got: Notification[] = [];
    c.on('notification', (n) => got.push(n));
    return got;
  };

  beforeAll(async () => {
    app = await createTestApp('pglite', { modules: [lanModule()] });
    ws = (await listenLan(app)).ws;
    // A fresh PGlite template takes long on a busy machine.
  }, 180_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await app.close();
  });

  it('resumes after a gap: what arrived while away comes once, in order, after the stored seq', async () => {
    const token = await registerDevice(app, app.ownerToken, 'kds-gap', 'kitchen');
    const first = new DeviceClient({ url: ws, token });
    const got1 = track(first);
    await first.connect();
    for (let i = 1; i <= 3; i++) await post(`before ${i}`, { device: 'kds-gap' });
    await waitFor(async () => got1.length === 3);
    const stored = first.lastSeq!;
    first.close();
    for (let i = 1; i <= 5; i++) await post(`away ${i}`, { device: 'kds-gap' });
    const second = new DeviceClient({ url: ws, token, after: stored });
    const got2 = track(second);
    const hello = await second.connect();
    expect(hello.lastSeq).toBe(stored + 5);
    // A later entry, sent after the resume: a repeat of the gap would come before it.
    await post('after resume', { device: 'kds-gap' });
    await waitFor(async () => got2.some((n) => n.title === 'after resume'));
    expect(got2.map((n) => n.title)).toEqual([
      'away 1',
      'away 2',
      'away 3',
      'away 4',
      'away 5',
      'after resume',
    ]);
    expect(got2.map((n) => n.seq)).toEqual([4, 5, 6, 7, 8, 9].map((k) => stored - 3 + k));
  });

  it("done and undo events reach both screens of the row, with each screen's own seq", async () => {
    const ta = await registerDevice(app, app.ownerToken, 'pos-a', 'pos', 'POS A');
    const tb = await registerDevice(app, app.ownerToken, 'pos-b', 'pos', 'POS B');
    // pos-b gets an extra entry first, so its seq of the shared row differs from pos-a's.
    await post('only b', { device: 'pos-b' });
    const a = new DeviceClient({ url: ws, token: ta });
    const b = new DeviceClient({ url: ws, token: tb });
    const gotA = track(a);
    const gotB = track(b);
    const done: [string, DoneEvent][] = [];
    const undo: [string, DoneEvent][] = [];
    a.on('done', (d) => done.push(['a', d]));
    b.on('done', (d) => done.push(['b', d]));
    a.on('undo', (d) => undo.push(['a', d]));
    b.on('undo', (d) => undo.push(['b', d]));
    await a.connect();
    await b.connect();
    await post('Ticket 12 ready', { role: 'pos' });
    await waitFor(async () => gotA.length === 1 && gotB.length === 2);
    const seqA = gotA[0]!.seq;
    const seqB = gotB[1]!.seq;
    expect(seqB).not.toBe(seqA);
    a.done(seqA);
    await waitFor(async () => done.length === 2);
    expect(Object.fromEntries(done)).toMatchObject({
      a: { seq: seqA, by: 'pos-a', byName: 'POS A', byOther: false },
      b: { seq: seqB, by: 'pos-a', byName: 'POS A', byOther: true },
    });
    b.undo(seqB);
    await waitFor(async () => undo.length === 2);
    expect(Object.fromEntries(undo)).toMatchObject({ a: { seq: seqA }, b: { seq: seqB } });
  });
});
