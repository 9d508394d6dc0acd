import { execFile } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_FROM_SOURCES, freePort, startChild, type ChildService } from '../helpers/child.ts';
import { panelBuildState } from '../../web/build-state.ts';

const run = promisify(execFile);

describe('first start and the command line [pglite]', () => {
  let dir: string;
  let child: ChildService | null = null;
  afterAll(async () => {
    await child?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serve on a fresh data dir creates the demo tenant and prints a working login link', async () => {
    dir = await mkdtemp(join(tmpdir(), 'comms-cli-'));
    const port = await freePort();
    child = startChild('serve', { DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1' });
    const line = await child.waitForLine(/login link/, 60_000);
    const token = /#token=(\S+)/.exec(line)![1]!;
    const me = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ tenant: { id: 'demo', country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' }, role: 'owner' });
    expect(child.output.join('\n')).toContain('store pglite');
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    await child.kill('SIGTERM');
    child = null;
  }, 120_000);

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
    const r = await run(process.execPath, [...CLI_FROM_SOURCES, 'readiness'], { env: { ...process.env, DATA_DIR: dir, MUPZA_RUNTIME: 'prodution-typo-xyz' } }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toContain('MUPZA_RUNTIME');
    expect((r as { stderr: string }).stderr).not.toContain('prodution-typo-xyz');
  }, 60_000);

  it('tenant create prints an owner token; audit verify reports the chain', async () => {
    const env = { ...process.env, DATA_DIR: dir };
    const { stdout } = await run(process.execPath, [...CLI_FROM_SOURCES, 'tenant', 'create', '--id', 'cli-cafe', '--name', 'CLI Cafe'], { env });
    expect(JSON.parse(stdout)).toMatchObject({ tenant: { id: 'cli-cafe', currency: 'AZN' }, ownerToken: expect.stringMatching(/^mz_owner_/) });
    const v = await run(process.execPath, [...CLI_FROM_SOURCES, 'audit', 'verify'], { env });
    expect(v.stdout).toMatch(/demo: ok, \d+ events chained/);
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
      if (!path.endsWith('index.js')) writeFileSync(join(root, path), '<script src="/assets/index.js"></script>');
      utimesSync(join(root, path), t, t);
    }
    // Directory mtimes count too (a deleted file changes only its directory's).
    for (const dir of ['web/src/components', 'web/src']) utimesSync(join(root, dir), times.src - 100, times.src - 100);
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
    writeFileSync(join(dev, 'web/dist/assets/index.js'), 'warn("Each child in a list should have a unique key")');
    expect(panelBuildState(dev)).toBe('development');
    const shipped = await fakeRoot({ src: now, dist: now - 60 });
    await rm(join(shipped, 'web/src'), { recursive: true });
    await rm(join(shipped, 'web/index.html'));
    await rm(join(shipped, 'web/vite.config.ts'));
    expect(panelBuildState(shipped)).toBe('fresh');
  });

});
