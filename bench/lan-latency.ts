/**
 * LAN hub latency under a hung internet: N devices on real WebSockets, in_app notifications at a
 * steady rate while every online adapter is live and hangs, enqueue-to-receipt latency and RSS, next
 * to a bare `ws` broadcast baseline measured in the same run with the same clients.
 *
 *   node bin/run-ts.mjs bench/lan-latency.ts [--driver postgres|pglite] [--devices 200] [--rate 20]
 *                                            [--seconds 10] [--mode broadcast|unicast] [--idle 1000]
 *                                            [--poster process|inline] [--no-floor]
 *
 * The devices run in a child process and the notifications are posted from another (as the screens
 * and the kitchen display would be elsewhere on the LAN); the processes stamp times with
 * performance.timeOrigin + performance.now(), so latencies compare across them.
 * Not a test: it prints figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';

const nowAbs = () => performance.timeOrigin + performance.now();
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};

// ---------------------------------------------------------------- device side (child process)

type WorkerCmd =
  | { cmd: 'bare'; url: string; n: number }
  | { cmd: 'hub'; url: string; tokens: string[] }
  | { cmd: 'collect' }
  | {
      cmd: 'post';
      base: string;
      token: string;
      rate: number;
      seconds: number;
      mode: 'broadcast' | 'unicast';
      devices: number;
    }
  | { cmd: 'close' };

/** One POST /api/v1/lan/notifications stamped with t0; reports the time until its answer. */
async function postNotification(
  base: string,
  token: string,
  mode: 'broadcast' | 'unicast',
  devicesN: number,
  i: number,
  onAnswered: (ms: number) => void,
): Promise<void> {
  const target =
    mode === 'broadcast' ? { role: 'kitchen' } : { device: `kds-${String(i % devicesN).padStart(4, '0')}` };
  const t0 = nowAbs();
  const r = await fetch(`${base}/api/v1/lan/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      target,
      title: `Ticket ${i}`,
      body: JSON.stringify({ t0, n: i }),
      source: 'bench',
    }),
  });
  onAnswered(nowAbs() - t0);
  if (r.status !== 202) console.error('enqueue failed', r.status);
  await r.arrayBuffer();
}

async function worker(): Promise<void> {
  const { DeviceClient } = await import('../src/lan/device-client.ts');
  let latencies: number[] = [];
  const sockets: { close(): unknown }[] = [];
  const record = (body: string) => {
    const t0 = (JSON.parse(body) as { t0: number }).t0;
    latencies.push(nowAbs() - t0);
  };
  const onCommand = async (m: WorkerCmd): Promise<void> => {
    if (m.cmd === 'bare') {
      await Promise.all(
        Array.from(
          { length: m.n },
          () =>
            new Promise<void>((resolve, reject) => {
              const ws = new WebSocket(m.url, { perMessageDeflate: false });
              ws.on('open', () => resolve());
              ws.on('error', reject);
              ws.on('message', (d) => record((JSON.parse(String(d)) as { body: string }).body));
              sockets.push(ws);
            }),
        ),
      );
      process.send!({ type: 'ready', n: sockets.length });
    } else if (m.cmd === 'hub') {
      // Connect in waves so 1,000 upgrades do not all hit the hub in the same millisecond.
      for (let i = 0; i < m.tokens.length; i += 50) {
        await Promise.all(
          m.tokens.slice(i, i + 50).map(async (token) => {
            const c = new DeviceClient({ url: m.url, token });
            c.on('notification', (n: { body: string }) => record(n.body));
            await c.connect();
            sockets.push(c);
          }),
        );
      }
      process.send!({ type: 'ready', n: sockets.length });
    } else if (m.cmd === 'post') {
      // The kitchen side: posts notifications at a steady rate, as a kitchen display on the LAN would.
      const enqueued: number[] = [];
      const pending: Promise<unknown>[] = [];
      const sent = await steady(m.rate, m.seconds, (i) => {
        pending.push(postNotification(m.base, m.token, m.mode, m.devices, i, (ms) => enqueued.push(ms)));
      });
      await Promise.all(pending);
      process.send!({ type: 'posted', sent, enqueued });
    } else if (m.cmd === 'collect') {
      process.send!({ type: 'latencies', latencies });
      latencies = [];
    } else if (m.cmd === 'close') {
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 200);
    }
  };
  // A failed command ends the worker with its error rather than an unhandled rejection.
  process.on('message', (m: WorkerCmd) => {
    onCommand(m).catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
  });
  process.send!({ type: 'up' });
}

// ---------------------------------------------------------------- hub side

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { count: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? NaN };
}
const ms = (x: number) => `${x.toFixed(2)} ms`;
const mb = (x: number) => `${(x / 1048576).toFixed(1)} MB`;

class Devices {
  private waiters: ((m: Record<string, unknown>) => void)[] = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Record<string, unknown>) => this.waiters.shift()?.(m));
  }
  next(): Promise<Record<string, unknown>> {
    return new Promise((r) => this.waiters.push(r));
  }
  async ask(cmd: WorkerCmd): Promise<Record<string, unknown>> {
    const p = this.next();
    this.child.send(cmd);
    return p;
  }
}

async function steady(rate: number, seconds: number, tick: (i: number) => void): Promise<number> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    tick(i);
  }
  return total;
}

async function main(): Promise<void> {
  const devicesN = Number(arg('devices', '200'));
  const rate = Number(arg('rate', '20'));
  const seconds = Number(arg('seconds', '10'));
  const mode = arg('mode', 'broadcast') as 'broadcast' | 'unicast';
  const idleTarget = Number(arg('idle', '1000'));
  // Memory only: a fresh process that connects `--idle` devices and does nothing else first.
  const memoryOnly = process.argv.includes('--memory-only');
  const adminUrl =
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  let driver = arg('driver', 'postgres') as 'postgres' | 'pglite';
  if (driver === 'postgres') {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
    try {
      await c.connect();
      await c.end();
    } catch {
      console.log('PostgreSQL not reachable; using PGlite.');
      driver = 'pglite';
    }
  }

  const child = fork(
    fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url)),
    [fileURLToPath(import.meta.url), '--worker'],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const devices = new Devices(child);
  await devices.next();

  // ---- 1. baseline: a bare ws server broadcasting the same kind of frame to the same clients
  let bare: number[] = [];
  let sentBare = 0;
  if (!memoryOnly) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    await devices.ask({ cmd: 'bare', url: `ws://127.0.0.1:${port}`, n: devicesN });
    const clients = [...wss.clients];
    let seq = 0;
    sentBare = await steady(rate, seconds, (i) => {
      const body = JSON.stringify({ t0: nowAbs(), n: i });
      const targets = mode === 'broadcast' ? clients : [clients[i % clients.length]!];
      for (const c of targets) {
        c.send(
          JSON.stringify({
            type: 'notification',
            seq: ++seq,
            id: '00000000-0000-4000-8000-000000000000',
            title: `Ticket ${i}`,
            body,
            source: 'bench',
            target: 'role:kitchen',
            createdAt: new Date().toISOString(),
          }),
        );
      }
    });
    await new Promise((r) => setTimeout(r, 1_000));
    bare = (await devices.ask({ cmd: 'collect' })).latencies as number[];
    for (const c of clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }

  // ---- 2. the hub, with every online adapter live and hung
  const { loadConfig } = await import('../src/config/config.ts');
  const { Runtime } = await import('../src/app/runtime.ts');
  const { lanModule } = await import('../src/lan/module.ts');
  const { PgliteDb } = await import('../src/store/pglite-driver.ts');
  const { PostgresDb } = await import('../src/store/pg-driver.ts');
  const { createTenant } = await import('../src/store/tenants.ts');
  const { newToken, storeToken } = await import('../src/store/tokens.ts');
  const { registerDevice } = await import('../src/lan/devices.ts');
  const { hungOnlineAdapters, LIVE_PROVIDER_ENV, PLACEHOLDER_SECRETS } =
    await import('../test/lan/hung-adapters.ts');

  let dbName: string | null = null;
  let dbUrl: string | undefined;
  if (driver === 'postgres') {
    dbName = `lan_bench_${randomBytes(4).toString('hex')}`;
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`CREATE DATABASE ${dbName}`);
    await a.end();
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
  }
  const config = loadConfig({
    ...LIVE_PROVIDER_ENV,
    ...PLACEHOLDER_SECRETS,
    LOG_LEVEL: 'error',
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: '10',
  });
  const hung = hungOnlineAdapters(config);
  const db = driver === 'postgres' ? await PostgresDb.open(dbUrl!, 10) : await PgliteDb.open({});
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const sqlProfile = new Map<string, { n: number; ms: number; max: number }>();
  if (process.argv.includes('--profile-sql')) {
    // Diagnostics: wall time per statement (pool wait included), keyed by its first words.
    const orig = db.query.bind(db);
    db.query = (async (sql: string, params?: readonly unknown[]) => {
      const t0 = performance.now();
      try {
        return await orig(sql, params);
      } finally {
        const key = sql.replace(/\s+/g, ' ').trim().slice(0, 60);
        const e = sqlProfile.get(key) ?? { n: 0, ms: 0, max: 0 };
        const d = performance.now() - t0;
        e.n++;
        e.ms += d;
        e.max = Math.max(e.max, d);
        sqlProfile.set(key, e);
      }
    }) as typeof db.query;
  }
  // ---- 1b. the floor: what any durable design pays before its first push. The same poster
  // process POSTs to a plain Fastify route in this process that stores the notification with one
  // INSERT and its own COMMIT (a WAL flush, as the hub's enqueue does) and then broadcasts the same
  // frame to the same clients as the bare run. No auth, no validation, no inbox, no seqs: the hub
  // cannot beat this column, so it shows how much of the target the machine leaves for the hub.
  let floor: number[] = [];
  let floorEnqueued: number[] = [];
  let sentFloor = 0;
  const floorOn = !memoryOnly && !process.argv.includes('--no-floor');
  if (floorOn) {
    const { default: Fastify } = await import('fastify');
    await db.exec(
      'CREATE TABLE bench_floor (id bigserial PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
    );
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    const app = Fastify({ logger: false });
    let seq = 0;
    app.post('/api/v1/lan/notifications', async (req, reply) => {
      const n = req.body as { title: string; body: string; source: string };
      const row = (
        await db.query<{ id: string }>(
          'INSERT INTO bench_floor (body) VALUES ($1) RETURNING id::text AS id',
          [JSON.stringify(n)],
        )
      ).rows[0]!;
      const tail = JSON.stringify({
        id: row.id,
        title: n.title,
        body: n.body,
        source: n.source,
        target: 'role:kitchen',
        createdAt: new Date().toISOString(),
      });
      for (const c of wss.clients) c.send(`{"type":"notification","seq":${++seq},${tail.slice(1)}`);
      return reply.code(202).send({ id: row.id });
    });
    const floorBase = await app.listen({ port: 0, host: '127.0.0.1' });
    await devices.ask({
      cmd: 'bare',
      url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
      n: devicesN,
    });
    const poster = new Devices(
      fork(
        fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url)),
        [fileURLToPath(import.meta.url), '--worker'],
        {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      ),
    );
    await poster.next();
    const post = (secs: number) =>
      poster.ask({
        cmd: 'post',
        base: floorBase,
        token: 'floor',
        rate,
        seconds: secs,
        mode: 'broadcast',
        devices: devicesN,
      });
    await post(1); // warm-up
    await new Promise((r) => setTimeout(r, 1_000));
    await devices.ask({ cmd: 'collect' });
    const r = await post(seconds);
    sentFloor = r.sent as number;
    floorEnqueued = r.enqueued as number[];
    await new Promise((r) => setTimeout(r, 1_000));
    floor = (await devices.ask({ cmd: 'collect' })).latencies as number[];
    poster.child.kill();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
    await app.close();
    await db.exec('DROP TABLE bench_floor');
  }

  const rt = new Runtime(config, {
    db,
    modules: [lanModule()],
    adapterOverrides: hung.overrides,
    seedDemo: false,
    logDestination: quiet,
  });
  await rt.init();
  const owner = newToken('owner');
  await db.tx(async (q) => {
    await createTenant(
      q,
      {
        id: 'bench',
        name: 'Bench',
        country: 'AZ',
        currency: 'AZN',
        timezone: 'Asia/Baku',
        locale: 'az',
        optIns: { in_app: true, whatsapp: true, telegram: true, email: true, otp_sms: true },
      },
      'bench',
    );
    await storeToken(q, { token: owner, tenantId: 'bench', role: 'owner', subject: 'bench-owner' });
  });
  const tokens: string[] = [];
  for (let i = 0; i < Math.max(devicesN, idleTarget); i++) {
    const id = `kds-${String(i).padStart(4, '0')}`;
    // Devices beyond the measured ones are waiters: connected, but not targeted by role:kitchen.
    const role = i < devicesN ? 'kitchen' : 'waiter';
    tokens.push(
      (await db.tx((q) => registerDevice(q, { tenantId: 'bench', id, role, name: id, actor: 'bench' })))
        .token,
    );
  }
  const base = await rt.start({ port: 0, host: '127.0.0.1' });
  const wsUrl = `${base!.replace(/^http/, 'ws')}/api/v1/lan/ws`;
  const rssIdle = process.memoryUsage().rss;
  if (memoryOnly) {
    await devices.ask({ cmd: 'hub', url: wsUrl, tokens: tokens.slice(0, idleTarget) });
    await new Promise((r) => setTimeout(r, 2_000));
    const m = process.memoryUsage();
    const n = (rt.lanHub as unknown as { connectionCount: number }).connectionCount;
    console.log(
      `\nLAN hub memory — ${driver}, node ${process.version}: RSS idle ${mb(rssIdle)}; with ${n} connected devices RSS ${mb(m.rss)} ` +
        `(heap used ${mb(m.heapUsed)}, external ${mb(m.external)}); target < 200 MB: ${m.rss < 200 * 1048576 ? 'met' : 'NOT met'}`,
    );
    child.send({ cmd: 'close' } satisfies WorkerCmd);
    await new Promise((r) => setTimeout(r, 300));
    child.kill();
    await rt.stop();
    await db.close();
    if (dbName) {
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
    }
    process.exit(0);
  }

  // The online lanes fill with calls that never return, and keep getting more work.
  const { getTenant } = await import('../src/store/tenants.ts');
  const actor = { tenant: (await getTenant(db, 'bench'))!, name: 'owner:bench' };
  let onlineI = 0;
  const enqueueOnline = () =>
    Promise.all([
      rt.outbox.enqueue(
        { channel: 'whatsapp', target: '+994501234567', body: `Salam ${onlineI}`, source: 'bench' },
        actor,
      ),
      rt.outbox.enqueue(
        { channel: 'telegram', target: '123456789', body: `Salam ${onlineI}`, source: 'bench' },
        actor,
      ),
      rt.outbox.enqueue(
        {
          channel: 'email',
          target: 'owner@example.az',
          subject: 'x',
          body: `Salam ${onlineI++}`,
          source: 'bench',
        },
        actor,
      ),
    ]);
  for (let i = 0; i < 10; i++) await enqueueOnline();
  const onlineTimer = setInterval(() => void enqueueOnline(), 200);
  const t = Date.now();
  while (
    !(hung.started.whatsapp_cloud! > 0 && hung.started.telegram_bot! > 0 && hung.started.smtp! > 0) &&
    Date.now() - t < 10_000
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }

  await devices.ask({ cmd: 'hub', url: wsUrl, tokens: tokens.slice(0, devicesN) });
  const rss200 = process.memoryUsage().rss;
  // Where the time goes: enqueue answered (at the poster); inbox entries committed with the row and
  // pushes starting (the hub is told right after the enqueue commit); the LAN lane claimed the row
  // and handed it to the hub; that delivery (which finds the entries) returned.
  const stage = {
    enqueued: [] as number[],
    written: [] as number[],
    handed: [] as number[],
    lane_done: [] as number[],
  };
  const lan = rt.lanHub! as import('../src/lan/hub.ts').LanHub;
  const t0Of = (row: { body: string | null }) => (JSON.parse(row.body ?? '{}') as { t0?: number }).t0;
  const pushWritten = lan.pushWritten.bind(lan);
  lan.pushWritten = (row, entries) => {
    const t0 = t0Of(row);
    if (t0) stage.written.push(nowAbs() - t0);
    pushWritten(row, entries);
  };
  const deliver = lan.deliver.bind(lan);
  lan.deliver = (row) => {
    const t0 = t0Of(row);
    if (t0) stage.handed.push(nowAbs() - t0);
    return deliver(row).then((v) => {
      if (t0) stage.lane_done.push(nowAbs() - t0);
      return v;
    });
  };
  // The notifications come from a kitchen process of their own by default (as from a kitchen
  // display on the LAN); `--poster inline` posts from this process, sharing the hub's event loop.
  const inlinePoster = arg('poster', 'process') === 'inline';
  const kitchen = inlinePoster
    ? null
    : new Devices(
        fork(
          fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url)),
          [fileURLToPath(import.meta.url), '--worker'],
          {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          },
        ),
      );
  if (kitchen) await kitchen.next();
  const postFor = async (secs: number): Promise<number> => {
    if (kitchen) {
      const r = await kitchen.ask({
        cmd: 'post',
        base: base!,
        token: owner,
        rate,
        seconds: secs,
        mode,
        devices: devicesN,
      });
      stage.enqueued.push(...(r.enqueued as number[]));
      return r.sent as number;
    }
    return steady(
      rate,
      secs,
      (i) => void postNotification(base!, owner, mode, devicesN, i, (ms) => stage.enqueued.push(ms)),
    );
  };
  // Warm-up (JIT, pools), not measured.
  await postFor(1);
  await new Promise((r) => setTimeout(r, 2_000));
  await devices.ask({ cmd: 'collect' });
  for (const k of Object.keys(stage) as (keyof typeof stage)[]) stage[k].length = 0;
  sqlProfile.clear();
  const sentHub = await postFor(seconds);
  await new Promise((r) => setTimeout(r, 1_500));
  const hub = (await devices.ask({ cmd: 'collect' })).latencies as number[];
  const rssAfterRun = process.memoryUsage().rss;
  const hungCalls = Object.values(hung.started).reduce((a, b) => a + b, 0);
  const sendingOnline = (
    await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE channel <> 'in_app' AND status = 'sending'`,
    )
  ).rows[0]!.n;
  const settledOnline = (
    await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE channel <> 'in_app' AND status IN ('sent','delivered','mock_sent')`,
    )
  ).rows[0]!.n;
  const inApp = (
    await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM outbox WHERE channel = 'in_app' GROUP BY status ORDER BY status`,
    )
  ).rows;
  clearInterval(onlineTimer);

  // ---- 3. memory with 1,000 connected devices
  let rss1000 = NaN;
  if (idleTarget > devicesN) {
    await devices.ask({ cmd: 'hub', url: wsUrl, tokens: tokens.slice(devicesN, idleTarget) });
    await new Promise((r) => setTimeout(r, 1_000));
    rss1000 = process.memoryUsage().rss;
  }
  const connected = rt.lanHub ? (rt.lanHub as unknown as { connectionCount: number }).connectionCount : 0;

  const perMsg = mode === 'broadcast' ? devicesN : 1;
  const b = stats(bare);
  const h = stats(hub);
  console.log(
    `\nLAN hub latency — ${driver}, ${devicesN} devices, ${mode}, ${rate} notifications/s for ${seconds} s (${perMsg} receipt(s) each), poster ${inlinePoster ? 'inline' : 'process'}, node ${process.version}`,
  );
  console.log(
    `online adapters: live and hung (${hungCalls} calls started, none returned; ${sendingOnline} online rows in flight, ${settledOnline} settled)`,
  );
  console.table({
    [`bare ws ${mode}`]: {
      receipts: b.count,
      expected: sentBare * perMsg,
      p50: ms(b.p50),
      p99: ms(b.p99),
      max: ms(b.max),
    },
    ...(floorOn
      ? {
          'floor: POST + INSERT/COMMIT + bare broadcast': {
            receipts: floor.length,
            expected: sentFloor * devicesN,
            p50: ms(stats(floor).p50),
            p99: ms(stats(floor).p99),
            max: ms(stats(floor).max),
          },
        }
      : {}),
    'LAN hub (enqueue → receipt)': {
      receipts: h.count,
      expected: sentHub * perMsg,
      p50: ms(h.p50),
      p99: ms(h.p99),
      max: ms(h.max),
    },
  });
  const st = Object.fromEntries(
    Object.entries(stage).map(([k, v]) => {
      const x = stats(v);
      return [k, { count: x.count, p50: ms(x.p50), p99: ms(x.p99), max: ms(x.max) }];
    }),
  );
  console.log('hub stages, from t0 (before the HTTP POST):');
  console.table(st);
  if (sqlProfile.size) {
    console.log('SQL during the measured run (wall time, pool wait included):');
    console.table(
      Object.fromEntries(
        [...sqlProfile.entries()]
          .sort((a, b) => b[1].ms - a[1].ms)
          .slice(0, 15)
          .map(([k, v]) => [k, { n: v.n, avg: ms(v.ms / v.n), max: ms(v.max) }]),
      ),
    );
  }
  if (floorOn) {
    const f = stats(floorEnqueued);
    console.log(
      `floor POST answered (INSERT committed): p50 ${ms(f.p50)}, p99 ${ms(f.p99)}, max ${ms(f.max)}`,
    );
  }
  console.log(
    `p99 ratio hub/bare: ${(h.p99 / b.p99).toFixed(2)}x (target ≤ 3x); hub p99 target < 15 ms: ${h.p99 < 15 ? 'met' : 'NOT met'}`,
  );
  console.log(`in_app rows: ${inApp.map((r) => `${r.status}=${r.n}`).join(' ')}`);
  console.log(
    `RSS of the hub process: idle ${mb(rssIdle)}, ${devicesN} connected ${mb(rss200)}, after the run ${mb(rssAfterRun)}` +
      (Number.isNaN(rss1000)
        ? ''
        : `, ${connected} connected ${mb(rss1000)} (target < 200 MB: ${rss1000 < 200 * 1048576 ? 'met' : 'NOT met'})`),
  );

  child.send({ cmd: 'close' } satisfies WorkerCmd);
  await new Promise((r) => setTimeout(r, 300));
  child.kill();
  kitchen?.child.kill();
  await rt.stop();
  await db.close();
  if (dbName) {
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await a.end();
  }
  process.exit(0);
}

if (process.argv.includes('--worker')) await worker();
else await main();
