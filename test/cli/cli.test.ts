import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_FROM_SOURCES, freePort, startChild, type ChildService } from '../helpers/child.ts';
import { panelBuildState } from '../../web/build-state.ts';
import { LOCK_FILE, processStartTime } from '../../src/store/data-dir-lock.ts';

const run = promisify(execFile);

describe('first start and the command line [pglite]', () => {
  let dir: string;
  let child: ChildService | null = null;
  afterAll(async () => {
    await child?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serve on a fresh data dir creates the demo tenant and prints a working login link', async () => {
    // A retry after a slow first start must not leave the first attempt's service holding the directory.
    await child?.kill('SIGTERM');
    dir = await mkdtemp(join(tmpdir(), 'comms-cli-'));
    const port = await freePort();
    child = startChild('serve', { DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1' });
    const line = await child.waitForLine(/login link/, 150_000);
    const token = /#token=(\S+)/.exec(line)![1]!;
    const me = await fetch(`http://127.0.0.1:${port}/api/v1/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await me.json()).toMatchObject({
      tenant: { id: 'demo', country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' },
      role: 'owner',
    });
    expect(child.output.join('\n')).toContain('store pglite');
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    await child.kill('SIGTERM');
    child = null;
  }, 240_000);

  it('readiness prints the same document as the API, as a table or JSON', async () => {
    const env = { ...process.env, DATA_DIR: dir };
    const { stdout } = await run(process.execPath, [...CLI_FROM_SOURCES, 'readiness', '--json'], { env });
    const doc = JSON.parse(stdout) as { summary: Record<string, number>; flags: Record<string, boolean> };
    expect(doc.summary).toMatchObject({ providers: 5, outboxItems: 4, lanSafeItems: 1 });
    expect(Object.values(doc.flags).every(Boolean)).toBe(true);
    const table = (await run(process.execPath, [...CLI_FROM_SOURCES, 'readiness'], { env })).stdout;
    expect(table).toContain('externalSendsDisabled');
    expect(table).toContain('whatsapp_cloud');
    expect(table).toContain('WHATSAPP_ACCESS_TOKEN=no');
  }, 60_000);

  it('an invalid env value stops the process naming the variable, not the value', async () => {
    const r = await run(process.execPath, [...CLI_FROM_SOURCES, 'readiness'], {
      env: { ...process.env, DATA_DIR: dir, MUPZA_RUNTIME: 'prodution-typo-xyz' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toContain('MUPZA_RUNTIME');
    expect((r as { stderr: string }).stderr).not.toContain('prodution-typo-xyz');
  }, 60_000);

  it('tenant create prints an owner token; audit verify reports the chain', async () => {
    const env = { ...process.env, DATA_DIR: dir };
    const { stdout } = await run(
      process.execPath,
      [...CLI_FROM_SOURCES, 'tenant', 'create', '--id', 'cli-cafe', '--name', 'CLI Cafe'],
      { env },
    );
    expect(JSON.parse(stdout)).toMatchObject({
      tenant: { id: 'cli-cafe', currency: 'AZN' },
      ownerToken: expect.stringMatching(/^mz_owner_/),
    });
    const v = await run(process.execPath, [...CLI_FROM_SOURCES, 'audit', 'verify'], { env });
    expect(v.stdout).toMatch(/demo: ok, \d+ events chained/);
  }, 60_000);
});

describe('the CLI and a running service share one embedded store [pglite]', () => {
  const ADMIN = 'operator-token-of-the-cli-test-0123456789';
  let dir: string;
  let port: number;
  let env: Record<string, string>;
  let child: ChildService | null = null;
  let ownerToken: string;
  afterAll(async () => {
    await child?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    run(process.execPath, [...CLI_FROM_SOURCES, ...args], {
      env: { ...process.env, DATABASE_URL: '', ...env, ...extra },
    });
  const failed = (p: Promise<unknown>) =>
    p.then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const me = (token: string) =>
    fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  const lockPid = () => (JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid;

  it('tenant create while serve runs goes through its API: the owner token works at once; a second serve is refused', async () => {
    await child?.kill('SIGTERM'); // a retry: the first attempt's service must not stay behind
    dir = await mkdtemp(join(tmpdir(), 'comms-cli-lock-'));
    port = await freePort();
    env = { DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', COMMS_ADMIN_TOKEN: ADMIN };
    child = startChild('serve', env);
    await child.waitForLine(/login link/, 200_000);
    const pid = child.proc.pid!;
    expect(lockPid()).toBe(pid);

    const created = await cli(['tenant', 'create', '--id', 'nargiz-cafe', '--name', 'Nargiz Cafe']);
    expect(created.stderr).toContain(`pid ${pid}`);
    ownerToken = (JSON.parse(created.stdout) as { ownerToken: string }).ownerToken;
    const res = await me(ownerToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      tenant: { id: 'nargiz-cafe', name: 'Nargiz Cafe' },
      role: 'owner',
    });

    const second = await failed(
      run(process.execPath, [...CLI_FROM_SOURCES, 'serve'], {
        env: { ...process.env, DATABASE_URL: '', ...env, PORT: String(await freePort()) },
      }),
    );
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(dir);
    expect(second.stderr).toContain(`pid ${pid}`);
    // The first service is untouched and still the holder.
    expect((await me(ownerToken)).status).toBe(200);
    expect(lockPid()).toBe(pid);
  }, 300_000);

  it('the operator commands and read commands run through the service; without the operator token they stop and say why', async () => {
    const phone = await cli(['owner', 'phone', 'add', '--tenant', 'nargiz-cafe', '--phone', '+994501234567']);
    expect(JSON.parse(phone.stdout)).toEqual({
      tenant: 'nargiz-cafe',
      ownerId: 'nargiz-cafe-owner',
      phone: '+994501234567',
    });
    const device = await cli([
      'device',
      'add',
      '--tenant',
      'nargiz-cafe',
      '--id',
      'pos-1',
      '--role',
      'pos',
      '--name',
      'POS',
    ]);
    const deviceToken = (JSON.parse(device.stdout) as { token: string }).token;
    expect((await me(deviceToken)).status).toBe(200);
    expect(
      JSON.parse(
        (
          await cli([
            'whatsapp',
            'map-number',
            '--phone-number-id',
            '106540352242922',
            '--tenant',
            'nargiz-cafe',
          ])
        ).stdout,
      ),
    ).toEqual({ phoneNumberId: '106540352242922', tenant: 'nargiz-cafe' });
    const audit = await cli(['audit', 'verify', '--token', ownerToken]);
    expect(audit.stdout).toMatch(/nargiz-cafe: ok, \d+ events chained/);
    const noToken = await failed(cli(['audit', 'verify']));
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('--token');
    const noAdmin = await failed(cli(['tenant', 'list'], { COMMS_ADMIN_TOKEN: '' }));
    expect(noAdmin.code).toBe(2);
    expect(noAdmin.stderr).toContain('COMMS_ADMIN_TOKEN');
  }, 300_000);

  it('the lock is released on a clean stop and the tenant is still there after a restart', async () => {
    await child!.kill('SIGTERM');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    child = startChild('serve', env);
    await child.waitForLine(/API and owner panel on/, 200_000);
    expect((await me(ownerToken)).status).toBe(200);
    const list = JSON.parse((await cli(['tenant', 'list'])).stdout) as { tenants: { id: string }[] };
    expect(list.tenants.map((t) => t.id)).toEqual(['demo', 'nargiz-cafe']);
  }, 300_000);

  it('a stale lock left by a killed service is replaced by the next start', async () => {
    const killed = child!.proc.pid!;
    await child!.kill('SIGKILL');
    child = null;
    expect(lockPid()).toBe(killed);
    child = startChild('serve', env);
    await child.waitForLine(/API and owner panel on/, 200_000);
    expect(lockPid()).toBe(child.proc.pid);
    expect((await me(ownerToken)).status).toBe(200);
    await child.kill('SIGTERM');
    child = null;
  }, 300_000);

  it('with no service running the CLI opens the store itself under the lock, and is refused while another CLI holds it', async () => {
    // A live process that is not a service (this test process, as a CLI would be) holds the directory.
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({
        pid: process.pid,
        startedAt: processStartTime(process.pid),
        command: 'cli migrate',
        since: new Date().toISOString(),
      }),
    );
    const refused = await failed(cli(['tenant', 'list']));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(dir);
    expect(refused.stderr).toContain(`pid ${process.pid}`);
    const read = await failed(cli(['outbox', '--tenant', 'nargiz-cafe']));
    expect(read.code).toBe(1);
    expect(read.stderr).toContain(`pid ${process.pid}`);
    await rm(join(dir, LOCK_FILE));

    const removed = await cli([
      'owner',
      'phone',
      'remove',
      '--tenant',
      'nargiz-cafe',
      '--phone',
      '+994501234567',
    ]);
    expect(JSON.parse(removed.stdout)).toEqual({
      removed: { tenant: 'nargiz-cafe', phone: '+994501234567' },
    });
    expect(removed.stderr).not.toContain('through its API');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await failed(
      cli(['owner', 'phone', 'remove', '--tenant', 'nargiz-cafe', '--phone', '+994501234567']),
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not_found');
  }, 300_000);

  it('send and the operator commands name the URL they could not reach (default: HOST and PORT of the service)', async () => {
    const closed = await freePort();
    const send = await failed(
      cli(
        [
          'send',
          '--token',
          'mz_owner_not-a-real-token-0000',
          '--channel',
          'email',
          '--target',
          'a@example.az',
          '--body',
          'Salam',
        ],
        { PORT: String(closed) },
      ),
    );
    expect(send.code).toBe(1);
    expect(send.stderr).toContain(`http://127.0.0.1:${closed}`);
    expect(send.stderr).toContain('ECONNREFUSED');
    const viaUrl = await failed(cli(['tenant', 'list', '--url', `http://127.0.0.1:${closed}`]));
    expect(viaUrl.code).toBe(1);
    expect(viaUrl.stderr).toContain(`http://127.0.0.1:${closed}`);
  }, 60_000);
});

describe('npm start rebuilds the owner panel when web/dist is older than web/src', () => {
  const roots: string[] = [];
  afterAll(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  /** A package root with panel sources and a build, each with a given mtime (seconds). */
  async function fakeRoot(times: { src: number; dist: number | null }): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'comms-panel-'));
    roots.push(root);
    mkdirSync(join(root, 'web/src/components'), { recursive: true });
    const files: [string, number][] = [
      ['web/index.html', times.src - 100],
      ['web/vite.config.ts', times.src - 100],
      ['web/src/main.tsx', times.src - 100],
      // The newest source sits deep in web/src, as after a pull that changed one component.
      ['web/src/components/Header.tsx', times.src],
    ];
    if (times.dist !== null) {
      mkdirSync(join(root, 'web/dist/assets'), { recursive: true });
      writeFileSync(join(root, 'web/dist/assets/index.js'), 'console.log("panel")');
      files.push(['web/dist/index.html', times.dist]);
    }
    for (const [path, t] of files) {
      if (!path.endsWith('index.js'))
        writeFileSync(join(root, path), '<script src="/assets/index.js"></script>');
      utimesSync(join(root, path), t, t);
    }
    // Directory mtimes count too (a deleted file changes only its directory's).
    for (const dir of ['web/src/components', 'web/src'])
      utimesSync(join(root, dir), times.src - 100, times.src - 100);
    return root;
  }

  it('missing build → missing; sources newer than the build → stale; build newer → fresh', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(panelBuildState(await fakeRoot({ src: now, dist: null }))).toBe('missing');
    expect(panelBuildState(await fakeRoot({ src: now, dist: now - 60 }))).toBe('stale');
    expect(panelBuildState(await fakeRoot({ src: now - 60, dist: now }))).toBe('fresh');
  });

  it('a development React bundle is rebuilt too; a package without sources keeps its build', async () => {
    const now = Math.floor(Date.now() / 1000);
    const dev = await fakeRoot({ src: now - 60, dist: now });
    writeFileSync(
      join(dev, 'web/dist/assets/index.js'),
      'warn("Each child in a list should have a unique key")',
    );
    expect(panelBuildState(dev)).toBe('development');
    const shipped = await fakeRoot({ src: now, dist: now - 60 });
    await rm(join(shipped, 'web/src'), { recursive: true });
    await rm(join(shipped, 'web/index.html'));
    await rm(join(shipped, 'web/vite.config.ts'));
    expect(panelBuildState(shipped)).toBe('fresh');
  });
});
