import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/child.ts';

/**
 * The project as someone installs it (issue 18): a fresh copy of the repository's files runs
 * `npm start` (which builds, then runs dist/), and `npm pack`'s tarball installs with
 * `--omit=dev` into a scratch project outside the repository, where a small program is
 * type-checked against `mupzaos-comms/client` and run against the packaged service.
 * Slow (two builds and an npm install from the registry: 2–6 minutes on a busy 2-core box).
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const OWNER_TOKEN = 'mz_owner_scratch-project-test-token-0123456789';
const LIMIT = 6 * 60_000;

/** A process in its own group, so `npm start`'s child node process is stopped with it. */
function startGroup(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): { proc: ChildProcess; output: string[] } {
  const proc = spawn(cmd, args, {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (b: Buffer) => output.push(b.toString('utf8')));
  proc.stderr!.on('data', (b: Buffer) => output.push(b.toString('utf8')));
  return { proc, output };
}

async function stopGroup(p: { proc: ChildProcess } | null): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => p.proc.once('exit', resolve));
  process.kill(-p.proc.pid!, 'SIGTERM');
  const t = setTimeout(() => process.kill(-p.proc.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

async function waitReady(
  base: string,
  p: { proc: ChildProcess; output: string[] },
  ms: number,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (p.proc.exitCode !== null) throw new Error(`service exited ${p.proc.exitCode}:\n${p.output.join('')}`);
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready within ${ms} ms:\n${p.output.join('')}`);
}

/** The owner panel as built by Vite: index.html naming its hashed bundle, and the bundle itself. */
async function expectPanel(base: string): Promise<void> {
  const page = await fetch(`${base}/`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const script = /src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(script, html.slice(0, 300)).toBeDefined();
  const js = await fetch(`${base}/${script}`);
  expect(js.status).toBe(200);
  expect(js.headers.get('content-type')).toContain('javascript');
}

describe('installed as a service and as a package', () => {
  let work: string;
  let clone: string;
  let scratch = '';
  let service: { proc: ChildProcess; output: string[] } | null = null;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'comms-package-'));
    clone = join(work, 'clone');
    // What a clone holds: the tracked files (and new ones not yet committed), no dist/ nor web/dist.
    const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    for (const f of stdout.split('\0').filter(Boolean)) {
      if (!existsSync(join(ROOT, f))) continue; // deleted in the work tree
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(ROOT, f), join(clone, f));
    }
    // The `npm install` step: the repository's installed dependencies.
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  });

  afterAll(async () => {
    await stopGroup(service);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    'a fresh clone: npm start builds dist/ and web/dist first, then serves the panel from compiled code',
    async () => {
      expect(existsSync(join(clone, 'dist'))).toBe(false);
      const port = await freePort();
      service = startGroup('npm', ['start'], clone, {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(work, 'clone-data'),
      });
      await waitReady(`http://127.0.0.1:${port}`, service, LIMIT - 30_000);
      expect(service.output.join('')).toContain('Building (no build yet)');
      expect(existsSync(join(clone, 'dist/cli/main.js'))).toBe(true);
      expect(existsSync(join(clone, 'dist/store/migrations/0001_outbox_core.sql'))).toBe(true);
      await expectPanel(`http://127.0.0.1:${port}`);
      await stopGroup(service);
      service = null;
    },
    LIMIT,
  );

  it(
    'npm pack → npm install --omit=dev in a scratch project: runs, serves the panel, and a program type-checks against mupzaos-comms/client and talks to it',
    async () => {
      const { stdout: packed } = await run('npm', ['pack', '--pack-destination', work, '--json'], {
        cwd: clone,
        maxBuffer: 64 << 20,
      });
      const tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
      const files = (JSON.parse(packed) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
      expect(files).toContain('dist/client/index.d.ts');
      expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);

      scratch = join(work, 'scratch');
      mkdirSync(scratch);
      writeFileSync(
        join(scratch, 'package.json'),
        JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
      );
      await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], {
        cwd: scratch,
        maxBuffer: 64 << 20,
      });
      const installed = readdirSync(join(scratch, 'node_modules'));
      expect(installed).toContain('mupzaos-comms');
      // Build and test tools stay out of a production install.
      for (const dev of ['vite', 'react', 'tsx', 'smtp-server', 'mailparser', 'typescript', 'vitest'])
        expect(installed).not.toContain(dev);

      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      service = startGroup(
        process.execPath,
        ['node_modules/mupzaos-comms/bin/mupza-comms.mjs', 'serve'],
        scratch,
        {
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: join(work, 'scratch-data'),
          COMMS_BOOTSTRAP_OWNER_TOKEN: OWNER_TOKEN,
        },
      );
      await waitReady(base, service, 90_000);
      await expectPanel(base);

      writeFileSync(
        join(scratch, 'program.ts'),
        `import { CommsApiError, CommsClient, type EnqueueResult } from 'mupzaos-comms/client';
const client = new CommsClient({ baseUrl: process.env.COMMS_URL!, token: process.env.COMMS_TOKEN! });
const me = await client.me();
const sent: EnqueueResult = await client.enqueue({ channel: 'email', target: 'guest@example.com', subject: 'Hi', body: 'From the scratch project', source: 'scratch' });
// @ts-expect-error the client's types are real: a channel is a string, not a number
void (() => client.enqueue({ channel: 42, target: 'x' }));
let refused = '';
try {
  await client.withToken('mz_owner_not-a-real-token').me();
} catch (err) {
  if (err instanceof CommsApiError) refused = \`\${err.status} \${err.code}\`;
}
console.log(JSON.stringify({ tenant: me.tenant.id, id: sent.id, refused }));
`,
      );
      writeFileSync(
        join(scratch, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            lib: ['ES2022', 'DOM'],
            types: [],
            skipLibCheck: true,
            outDir: 'out',
          },
          files: ['program.ts', 'env.d.ts'],
        }),
      );
      // The program reads process.env; @types/node is not installed in a production scratch project.
      writeFileSync(
        join(scratch, 'env.d.ts'),
        'declare const process: { env: Record<string, string | undefined> };\n',
      );
      await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: scratch }).catch(
        (e: { stdout: string }) => {
          throw new Error(`type-check failed:\n${e.stdout}`);
        },
      );
      const { stdout } = await run(process.execPath, ['out/program.js'], {
        cwd: scratch,
        env: { ...process.env, COMMS_URL: base, COMMS_TOKEN: OWNER_TOKEN },
      });
      const answer = JSON.parse(stdout) as { tenant: string; id: string; refused: string };
      expect(answer).toMatchObject({ tenant: 'demo', refused: '401 unauthorized' });
      const row = await fetch(`${base}/api/v1/outbox/${answer.id}`, {
        headers: { authorization: `Bearer ${OWNER_TOKEN}` },
      });
      expect(row.status).toBe(200);
      await stopGroup(service);
      service = null;
    },
    LIMIT,
  );

  // The device SDK from the installed tarball: it resolves, type-checks and runs (in Node it falls
  // back to the `ws` runtime dependency; a hub that is not there is a final refusal without retries).
  it(
    'the installed package exports the device SDK (mupzaos-comms/device), compiled ESM with types',
    async () => {
      expect(scratch, 'runs after the scratch-project case').not.toBe('');
      writeFileSync(
        join(scratch, 'device-program.ts'),
        `import { DeviceClient, type ConnectionEvent } from 'mupzaos-comms/device';
const seen: ConnectionEvent[] = [];
// @ts-expect-error the device token is required
void new DeviceClient({ url: 'ws://127.0.0.1:9/api/v1/lan/ws' });
const client = new DeviceClient({ url: 'ws://127.0.0.1:9/api/v1/lan/ws', token: 'x', reconnect: false });
client.on('connection', (c) => seen.push(c));
client.connect().then(
  () => console.log(JSON.stringify({ connected: true })),
  (err: Error) => console.log(JSON.stringify({ refused: err.message, causes: seen.map((c) => c.cause) })),
);
`,
      );
      writeFileSync(
        join(scratch, 'tsconfig.device.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            lib: ['ES2022', 'DOM'],
            types: [],
            skipLibCheck: true,
            outDir: 'out',
          },
          files: ['device-program.ts'],
        }),
      );
      expect(existsSync(join(scratch, 'node_modules/mupzaos-comms/dist/device-sdk/index.d.ts'))).toBe(true);
      await run(process.execPath, [TSC, '-p', 'tsconfig.device.json'], { cwd: scratch }).catch(
        (e: { stdout: string }) => {
          throw new Error(`type-check failed:\n${e.stdout}`);
        },
      );
      const { stdout } = await run(process.execPath, ['out/device-program.js'], { cwd: scratch });
      const out = JSON.parse(stdout) as { refused?: string; causes?: string[] };
      expect(out.refused, stdout).toMatch(/^device connection ended: hub_unreachable/);
      expect(out.causes?.at(-1), stdout).toBe('hub_unreachable');
    },
    LIMIT,
  );
});
