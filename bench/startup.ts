/**
 * Start-up time and idle memory of the compiled service (issue 18 budgets): from process start to
 * the first 200 of GET /readyz, and the resident set size (VmRSS) after sitting idle.
 *
 *   npm run build && node bin/run-ts.mjs bench/startup.ts [--store both|postgres|pglite] [--runs 3] [--idle 60]
 *
 * The service runs from dist/ (bin/mupza-comms.mjs), as `npm start` runs it. PGlite: the data
 * directory is created by an unmeasured first start, then each run opens the existing directory.
 * PostgreSQL: a fresh database migrated by an unmeasured first start. BENCH_SERVICE_ENV adds
 * variables to the service ("A=1 B=2"), e.g. to try PGLITE_* settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const STORE = arg('store', 'both');
const RUNS = Number(arg('runs', '3'));
const IDLE_S = Number(arg('idle', '60'));
const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PORT = 18_900 + Math.floor(Math.random() * 90);
const EXTRA = Object.fromEntries(
  (process.env.BENCH_SERVICE_ENV ?? '')
    .split(' ')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

if (!existsSync('dist/cli/main.js')) throw new Error('dist/ is not built: run npm run build first');

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m![1]) / 1024);
}

/** CPU time (user + system) the process has used: on a busy shared box, the part of the start-up
 * that does not depend on how long it waited for a core. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in 10 ms ticks
}

async function untilReady(proc: ChildProcess): Promise<void> {
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`service exited ${proc.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${PORT}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** One start: ms from spawn to ready, and RSS right after ready and after IDLE_S seconds idle. */
async function measure(
  env: Record<string, string>,
  idleS: number,
): Promise<{ readyMs: number; cpuReadyMs: number; rssReady: number; rssIdle: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, ['bin/mupza-comms.mjs', 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...EXTRA,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await untilReady(proc);
    const readyMs = Math.round(performance.now() - t0);
    const cpuReadyMs = cpuMs(proc.pid!);
    const rssReady = rssMb(proc.pid!);
    await new Promise((r) => setTimeout(r, idleS * 1000));
    return { readyMs, cpuReadyMs, rssReady, rssIdle: rssMb(proc.pid!) };
  } finally {
    await stop(proc);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(store: 'pglite' | 'postgres'): Promise<void> {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  if (store === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'comms-startup-'));
    env = { DATA_DIR: join(dir, 'data') };
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else {
    const name = `comms_startup_${process.pid}`;
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(ADMIN);
    url.pathname = `/${name}`;
    env = { DATABASE_URL: url.toString() };
    cleanup = async () => {
      const a = new pg.Client({ connectionString: ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    };
  }
  try {
    const first = await measure(env, 0);
    console.log(
      `${store}: first start (creates/migrates the store, seeds the demo tenant): ${first.readyMs} ms`,
    );
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await measure(env, IDLE_S);
      runs.push(r);
      console.log(
        `${store}: run ${i + 1}: ready ${r.readyMs} ms (CPU ${r.cpuReadyMs} ms), RSS at ready ${r.rssReady} MB, after ${IDLE_S} s idle ${r.rssIdle} MB`,
      );
    }
    console.log(
      `${store}: median of ${RUNS}: ready ${median(runs.map((r) => r.readyMs))} ms (CPU ${median(runs.map((r) => r.cpuReadyMs))} ms), idle RSS ${median(runs.map((r) => r.rssIdle))} MB (max ${Math.max(...runs.map((r) => r.rssIdle))} MB)`,
    );
  } finally {
    await cleanup();
  }
}

console.log(
  `node ${process.version}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `command: node bin/run-ts.mjs bench/startup.ts --store ${STORE} --runs ${RUNS} --idle ${IDLE_S}${process.env.BENCH_SERVICE_ENV ? ` (BENCH_SERVICE_ENV="${process.env.BENCH_SERVICE_ENV}")` : ''}`,
);
for (const s of STORE === 'both' ? (['postgres', 'pglite'] as const) : [STORE as 'pglite' | 'postgres'])
  await bench(s);
