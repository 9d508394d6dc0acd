/**
 * End-to-end outbox throughput: enqueue N messages over HTTP (one POST each, keep-alive, C in
 * flight) into a real `mupza-comms serve` child process, and time until every row is dispatched
 * in dry-run (ready → sending → mock_sent, each with its audit event and attempt row).
 * Then a low-rate run measures enqueue-to-dispatch pickup latency (wake on NOTIFY).
 *
 *   node bin/run-ts.mjs bench/outbox-throughput.ts [--n 20000] [--concurrency 32] [--store both|postgres|pglite]
 *     [--server chained|unchained|compare]
 *
 * --server unchained runs bench/serve-unchained.ts (the same server without the audit hash-chain
 * sealer); compare alternates chained and unchained runs (3 each) to price the chain.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PgliteDb } from '../src/store/pglite-driver.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const N = Number(arg('n', '20000'));
const C = Number(arg('concurrency', '32'));
const STORE = arg('store', 'both');
const SERVER = arg('server', 'chained');
const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'mz_owner_bench-bootstrap-token-000000001';
const PORT = 18_400 + Math.floor(Math.random() * 500);
// BENCH_SERVICE_ENV="PGLITE_SHARED_BUFFERS=16MB …" adds settings to the service (BENCHMARKS.md prices them).
const SERVICE_ENV = Object.fromEntries(
  (process.env.BENCH_SERVICE_ENV ?? '')
    .split(' ')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

function post(agent: Agent, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: PORT,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TOKEN}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function startServer(env: Record<string, string>, server: 'chained' | 'unchained') {
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry =
    server === 'chained' ? ['bin/mupza-comms.mjs', 'serve'] : ['bin/run-ts.mjs', 'bench/serve-unchained.ts'];
  const proc = spawn(process.execPath, [...nodeArgs, ...entry], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(PORT),
      HOST: '127.0.0.1',
      COMMS_BOOTSTRAP_OWNER_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
      MUPZA_RUNTIME: 'development',
      ...SERVICE_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('API and owner panel on')) resolve();
    });
    proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return proc;
}

async function run(store: 'postgres' | 'pglite', server: 'chained' | 'unchained' = 'chained') {
  let dbName = '';
  let dataDir = '';
  const env: Record<string, string> = {};
  if (store === 'postgres') {
    dbName = `comms_bench_${Date.now()}`;
    const c = new pg.Client({ connectionString: ADMIN });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const u = new URL(ADMIN);
    u.pathname = `/${dbName}`;
    env.DATABASE_URL = u.toString();
    env.DATABASE_POOL_SIZE = '16';
  } else {
    dataDir = await mkdtemp(join(tmpdir(), 'comms-bench-'));
    env.DATA_DIR = dataDir;
  }
  const proc = await startServer(env, server);
  const agent = new Agent({ keepAlive: true, maxSockets: C });

  // Count dispatched rows through the server's own /metrics (works for both stores).
  const dispatched = async () => {
    const text = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: PORT, path: '/metrics', agent }, (res) => {
        let s = '';
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(s));
      })
        .on('error', reject)
        .end();
    });
    const m = /comms_outbox_rows\{status="mock_sent",channel="email"\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };

  const body = (i: number) =>
    JSON.stringify({
      channel: 'email',
      target: `guest${i}@example.az`,
      subject: 'Rezervasiya',
      body: `Masanız hazırdır #${i}`,
      source: 'bench',
    });
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        if ((await post(agent, '/api/v1/outbox', body(i))) !== 202) failed++;
      }
    }),
  );
  const tEnq = performance.now();
  while ((await dispatched()) < N - failed) await new Promise((r) => setTimeout(r, 50));
  const tDone = performance.now();

  // Pickup latency at a low rate: 300 messages at ~100/s, measured from the stored timestamps.
  const pickupStart = new Date();
  for (let i = 0; i < 300; i++) {
    await post(
      agent,
      '/api/v1/outbox',
      JSON.stringify({ channel: 'email', target: `p${i}@example.az`, body: 'pickup', source: 'pickup' }),
    );
    await new Promise((r) => setTimeout(r, 10));
  }
  while ((await dispatched()) < N - failed + 300) await new Promise((r) => setTimeout(r, 50));
  agent.destroy();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));

  const q = `SELECT extract(epoch FROM (a.started_at - o.created_at)) * 1000 AS ms FROM outbox o
             JOIN outbox_attempts a ON a.outbox_id = o.id WHERE o.source = 'pickup' AND o.created_at >= $1 ORDER BY ms`;
  let lat: number[];
  if (store === 'postgres') {
    const c = new pg.Client({ connectionString: env.DATABASE_URL });
    await c.connect();
    lat = (await c.query(q, [pickupStart])).rows.map((r: { ms: string }) => Number(r.ms));
    await c.end();
    const a = new pg.Client({ connectionString: ADMIN });
    await a.connect();
    await a.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
    await a.end();
  } else {
    const db = await PgliteDb.open({ dataDir });
    lat = (await db.query<{ ms: number }>(q, [pickupStart])).rows.map((r) => Number(r.ms));
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!.toFixed(1);
  const secs = (tDone - t0) / 1000;
  console.log(
    `${store.padEnd(8)} ${server === 'unchained' ? '(audit chain off) ' : ''}n=${N} c=${C} failed=${failed} enqueue ${(N / ((tEnq - t0) / 1000)).toFixed(0)}/s, end-to-end ${(N / secs).toFixed(0)} messages/s (${secs.toFixed(2)} s); pickup p50 ${pct(50)} ms p99 ${pct(99)} ms (n=${lat.length})`,
  );
}

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);
console.log(
  `command: node bin/run-ts.mjs bench/outbox-throughput.ts --n ${N} --concurrency ${C} --store ${STORE} --server ${SERVER}`,
);
const stores = (['postgres', 'pglite'] as const).filter((s) => STORE === 'both' || STORE === s);
for (const store of stores) {
  if (SERVER === 'compare') {
    for (let i = 0; i < 3; i++) {
      await run(store, 'chained');
      await run(store, 'unchained');
    }
  } else {
    await run(store, SERVER === 'unchained' ? 'unchained' : 'chained');
  }
}
