/**
 * Scale-out throughput: the same workload through mupza-comms on PostgreSQL with 1, 2 and 4
 * `mupza-comms dispatch` processes behind one `mupza-comms api` process, on PGlite (one `serve`
 * process), and as plain pg-boss 10 jobs (send + no-op worker processes) on the same PostgreSQL
 * server in the same run, reported as a ratio.
 *
 * Workload, for each system: N messages enqueued one by one, C in flight.
 *   end-to-end  first enqueue → last message done (mupza-comms: dry-run email dispatch writing the
 *               attempt row and three audit events per message; pg-boss: no-op handler, job
 *               completed). Producers: pg-boss's boss.send() from this process; mupza-comms either
 *               over HTTP (POST /api/v1/outbox to the api process, how the service is used) or
 *               in-process (OutboxService.enqueue from this process: the same place as boss.send).
 *   drain       N more messages enqueued due a little later (sendAt / startAfter); due time → last
 *               done: the claim/complete machinery alone.
 * "done" is counted by this process with SELECT count(*) every 100 ms.
 *
 *   node bin/run-ts.mjs bench/scale-out.ts [--n 10000] [--concurrency 32] [--dispatchers 1,2,4]
 *        [--pgboss-workers 2] [--pgboss-batch 100] [--pgboss-tuned 4x500] [--skip pglite,pgboss,library]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { freePort, startChild, type ChildService } from '../test/helpers/child.ts';
import { PgliteDb } from '../src/store/pglite-driver.ts';
import { loadConfig } from '../src/config/config.ts';
import { Runtime } from '../src/app/runtime.ts';
import { getTenant } from '../src/store/tenants.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const N = Number(arg('n', '10000'));
const C = Number(arg('concurrency', '32'));
const DISPATCHERS = arg('dispatchers', '1,2,4').split(',').map(Number);
const BOSS_WORKERS = Number(arg('pgboss-workers', '2'));
const BOSS_BATCH = Number(arg('pgboss-batch', '100'));
const TUNED = arg('pgboss-tuned', '4x500').split('x').map(Number) as [number, number];
const SKIP = new Set(arg('skip', '').split(',').filter(Boolean));
const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'mz_owner_scale-bench-bootstrap-token-01';

const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  label: string;
  enqueuePerS: number;
  endToEndPerS: number;
  drainPerS: number;
  loadBefore: string;
}

async function createDb(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Runs `enqueue(i)` for i in [from, from + n) with C in flight; returns the seconds taken. */
async function produce(
  from: number,
  n: number,
  enqueue: (i: number) => Promise<boolean>,
): Promise<{ secs: number; failed: number }> {
  const t0 = performance.now();
  let next = from;
  let failed = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < from + n) {
        const i = next++;
        if (!(await enqueue(i))) failed++;
      }
    }),
  );
  return { secs: (performance.now() - t0) / 1000, failed };
}

async function waitCount(count: () => Promise<number>, target: number, timeoutMs = 600_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await count()) >= target) return performance.now();
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${target} done`);
}

/** Both phases for one system; `enqueue(i, dueAt)` enqueues message i, due now or at dueAt. */
async function phases(
  label: string,
  enqueue: (i: number, dueAt: Date | null) => Promise<boolean>,
  count: (phase: 'a' | 'b') => Promise<number>,
): Promise<Figures> {
  const loadBefore = load();
  const t0 = performance.now();
  const a = await produce(0, N, (i) => enqueue(i, null));
  const tDone = await waitCount(() => count('a'), N - a.failed);
  // Drain: hold the second batch back until enqueueing it is surely over (1.5 x the first batch's time).
  const dueAt = new Date(Date.now() + Math.ceil(a.secs * 1500) + 1_500);
  const b = await produce(N, N, (i) => enqueue(i, dueAt));
  if (Date.now() >= dueAt.getTime())
    throw new Error('drain phase: enqueueing outlasted the hold-back; rerun with a smaller --n');
  await sleep(dueAt.getTime() - Date.now());
  const tDue = performance.now();
  const tDrained = await waitCount(() => count('b'), N - b.failed);
  if (a.failed || b.failed) console.log(`  ${label}: ${a.failed + b.failed} enqueues failed`);
  return {
    label,
    enqueuePerS: N / a.secs,
    endToEndPerS: N / ((tDone - t0) / 1000),
    drainPerS: N / ((tDrained - tDue) / 1000),
    loadBefore,
  };
}

function poster(port: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: C });
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/outbox',
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
  const enqueue = async (i: number, dueAt: Date | null) =>
    (await post(
      JSON.stringify({
        channel: 'email',
        target: `guest${i}@example.az`,
        subject: 'Rezervasiya',
        body: `Masanız hazırdır #${i}`,
        source: dueAt ? 'bench_b' : 'bench_a',
        ...(dueAt ? { sendAt: dueAt.toISOString() } : {}),
      }),
    )) === 202;
  return { enqueue, close: () => agent.destroy() };
}

// e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every service process.
const CHILD_NODE_ARGS = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
const COMMON_ENV = {
  HOST: '127.0.0.1',
  COMMS_BOOTSTRAP_OWNER_TOKEN: TOKEN,
  // Scheduled rows are found by polling; NOTIFY wakes dispatchers for rows due at once.
  COMMS_POLL_MS: '100',
  LOG_LEVEL: 'warn',
};

/** mupza-comms's own enqueue, called in this process like boss.send (no HTTP in between). */
async function libraryProducer(url: string) {
  const config = loadConfig({
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: '16',
    LOG_LEVEL: 'warn',
    COMMS_BOOTSTRAP_OWNER_TOKEN: TOKEN,
  });
  const rt = new Runtime(config, { mode: 'api', seedDemo: false });
  await rt.init();
  const tenant = (await getTenant(rt.db, 'demo'))!;
  const enqueue = async (i: number, dueAt: Date | null) => {
    const { created } = await rt.outbox.enqueue(
      {
        channel: 'email',
        target: `guest${i}@example.az`,
        subject: 'Rezervasiya',
        body: `Masanız hazırdır #${i}`,
        source: dueAt ? 'bench_b' : 'bench_a',
        ...(dueAt ? { sendAt: dueAt.toISOString() } : {}),
      },
      { tenant, name: 'service:bench' },
    );
    return created;
  };
  return { enqueue, close: () => rt.stop() };
}

async function ours(dispatchers: number, producer: 'http' | 'library'): Promise<Figures> {
  const db = await createDb('comms_scale');
  const port = await freePort();
  const children: ChildService[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const api = startChild(
      'api',
      { ...COMMON_ENV, DATABASE_URL: db.url, DATABASE_POOL_SIZE: '16', PORT: String(port) },
      CHILD_NODE_ARGS,
    );
    children.push(api);
    await api.waitForLine(/API and owner panel on/, 120_000);
    for (let i = 0; i < dispatchers; i++) {
      const d = startChild(
        'dispatch',
        { ...COMMON_ENV, DATABASE_URL: db.url, DATABASE_POOL_SIZE: '8', PORT: String(port) },
        CHILD_NODE_ARGS,
      );
      children.push(d);
    }
    await Promise.all(children.slice(1).map((c) => c.waitForLine(/MUPZAOS comms dispatch/, 120_000)));
    const p = producer === 'http' ? poster(port) : await libraryProducer(db.url);
    const count = async (phase: 'a' | 'b') =>
      Number(
        (
          await pool.query(`SELECT count(*) AS n FROM outbox WHERE status = 'mock_sent' AND source = $1`, [
            `bench_${phase}`,
          ])
        ).rows[0].n,
      );
    const f = await phases(
      `mupza-comms, PostgreSQL, ${producer === 'http' ? 'HTTP to 1 api' : 'in-process enqueue'} + ${dispatchers} dispatch`,
      p.enqueue,
      count,
    );
    await p.close();
    // Sanity: every dispatched row carries its attempt row and its audit trail.
    const chk = await pool.query(
      `SELECT (SELECT count(*) FROM outbox_attempts)::int AS attempts, (SELECT count(*) FROM audit_events WHERE entity = 'outbox' AND action IN ('created', 'claimed', 'attempt'))::int AS audit`,
    );
    if (chk.rows[0].attempts < 2 * N || chk.rows[0].audit < 6 * N)
      throw new Error(`missing attempt/audit rows: ${JSON.stringify(chk.rows[0])}`);
    return f;
  } finally {
    for (const c of children) await c.kill('SIGTERM');
    await pool.end();
    await db.drop();
  }
}

async function oursPglite(): Promise<Figures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comms-scale-'));
  const port = await freePort();
  const serve = startChild(
    'serve',
    { ...COMMON_ENV, DATA_DIR: dataDir, PORT: String(port) },
    CHILD_NODE_ARGS,
  );
  try {
    await serve.waitForLine(/API and owner panel on/, 120_000);
    const p = poster(port);
    // PGlite belongs to the serving process: count through its /metrics.
    const count = async (phase: 'a' | 'b'): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m = /comms_outbox_rows\{status="mock_sent",channel="email"\} (\d+)/.exec(text);
      return (m ? Number(m[1]) : 0) - (phase === 'b' ? N : 0) - baseline;
    };
    let baseline = 0;
    baseline = await count('a');
    const f = await phases('mupza-comms, PGlite, 1 serve', p.enqueue, count);
    p.close();
    return f;
  } finally {
    await serve.kill('SIGTERM');
    await PgliteDb.open({ dataDir })
      .then((d) => d.close())
      .catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function pgboss(processes: number, perProcess = BOSS_WORKERS, batch = BOSS_BATCH): Promise<Figures> {
  const db = await createDb('pgboss_scale');
  const boss = new PgBoss({ connectionString: db.url, max: 16, supervise: false, schedule: false });
  boss.on('error', (err: Error) => console.error(`pg-boss error: ${err.message}`));
  const workers: ChildProcess[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // Dropping the database ends every connection to it; an idle client must not crash the bench.
  pool.on('error', () => undefined);
  try {
    await boss.start();
    await boss.createQueue('bench');
    for (let i = 0; i < processes; i++) {
      const w = spawn(
        process.execPath,
        ['bin/run-ts.mjs', 'bench/pgboss-worker.ts', db.url, String(perProcess), String(batch)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        w.stdout!.on('data', (b: Buffer) => b.toString().includes('pg-boss worker ready') && resolve());
        w.once('exit', (c) => reject(new Error(`pg-boss worker exited ${c}`)));
      });
    }
    const enqueue = async (i: number, dueAt: Date | null) =>
      (await boss.send(
        'bench',
        {
          channel: 'email',
          target: `guest${i}@example.az`,
          subject: 'Rezervasiya',
          body: `Masanız hazırdır #${i}`,
          phase: dueAt ? 'b' : 'a',
        },
        dueAt ? { startAfter: dueAt } : {},
      )) !== null;
    const count = async (phase: 'a' | 'b') =>
      Number(
        (
          await pool.query(
            `SELECT count(*) AS n FROM pgboss.job WHERE name = 'bench' AND state = 'completed' AND data->>'phase' = $1`,
            [phase],
          )
        ).rows[0].n,
      );
    return await phases(
      `pg-boss 10, ${processes} worker process${processes > 1 ? 'es' : ''} x ${perProcess} workers x batch ${batch}`,
      enqueue,
      count,
    );
  } finally {
    for (const w of workers) {
      w.kill('SIGTERM');
      await new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)));
    }
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await pool.end();
    // pg-boss closes its own pool asynchronously after stop(); let it finish before the drop.
    await new Promise((r) => setTimeout(r, 1_000));
    await db.drop();
  }
}

const pgv = await (async () => {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  const v = (await c.query('SHOW server_version')).rows[0].server_version as string;
  const fsync = (await c.query('SHOW fsync')).rows[0].fsync as string;
  const sc = (await c.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string;
  await c.end();
  return `PostgreSQL ${v} (fsync ${fsync}, synchronous_commit ${sc})`;
})();
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${pgv}`,
);
console.log(
  `command: node bin/run-ts.mjs bench/scale-out.ts --n ${N} --concurrency ${C} --dispatchers ${DISPATCHERS.join(',')} --pgboss-workers ${BOSS_WORKERS} --pgboss-batch ${BOSS_BATCH}${SKIP.size ? ` --skip ${[...SKIP].join(',')}` : ''}`,
);
console.log(`(${load()} at start; the figures are noisy while other work runs on the machine)`);

const http = new Map<number, Figures>();
const lib = new Map<number, Figures>();
const bosses = new Map<number, Figures>();
const print = (f: Figures) =>
  console.log(
    `${f.label.padEnd(64)} enqueue ${f.enqueuePerS.toFixed(0).padStart(5)}/s  end-to-end ${f.endToEndPerS.toFixed(0).padStart(5)}/s  drain ${f.drainPerS.toFixed(0).padStart(5)}/s  (${f.loadBefore})`,
  );
const ratio = (a: number, b: number) => (a / b).toFixed(2);
for (const k of DISPATCHERS) {
  http.set(k, await ours(k, 'http'));
  print(http.get(k)!);
  if (!SKIP.has('library')) {
    lib.set(k, await ours(k, 'library'));
    print(lib.get(k)!);
  }
  if (!SKIP.has('pgboss')) {
    // pg-boss with as many worker processes as we have dispatchers, right after, on the same server.
    bosses.set(k, await pgboss(k));
    print(bosses.get(k)!);
  }
}
let tuned: Figures | null = null;
if (!SKIP.has('pgboss')) {
  const k = Math.max(...DISPATCHERS);
  tuned = await pgboss(k, TUNED[0], TUNED[1]);
  print(tuned);
}
if (!SKIP.has('pglite')) print(await oursPglite());

if (bosses.size) {
  console.log('ratio mupza-comms / pg-boss, same number of consumer processes (>= 1.0: at least as fast):');
  for (const k of DISPATCHERS) {
    const b = bosses.get(k)!;
    const h = http.get(k)!;
    const l = lib.get(k);
    console.log(
      `  ${k} process${k > 1 ? 'es' : ''}: drain ${ratio(h.drainPerS, b.drainPerS)}` +
        (l
          ? `, end-to-end in-process enqueue ${ratio(l.endToEndPerS, b.endToEndPerS)} (drain ${ratio(l.drainPerS, b.drainPerS)})`
          : '') +
        `, end-to-end over HTTP ${ratio(h.endToEndPerS, b.endToEndPerS)}`,
    );
  }
  if (tuned) {
    const k = Math.max(...DISPATCHERS);
    const best = lib.get(k) ?? http.get(k)!;
    console.log(
      `  against pg-boss tuned for throughput (${TUNED[0]} workers x batch ${TUNED[1]} per process, ${k} processes): drain ${ratio(http.get(k)!.drainPerS, tuned.drainPerS)}, end-to-end ${ratio(best.endToEndPerS, tuned.endToEndPerS)}`,
    );
  }
}
