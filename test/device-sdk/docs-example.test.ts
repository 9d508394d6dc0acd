import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { listenLan, registerDevice, rowStatus } from '../lan/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The SDK example of docs/lan.md, exactly as printed there. */
function docsExample(): string {
  const doc = readFileSync(join(ROOT, 'docs/lan.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Device SDK'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no ts example under "### Device SDK" in docs/lan.md');
  return m[1]!;
}

describe('the docs/lan.md device SDK example [pglite]', () => {
  let app: TestApp;
  let http: string;
  beforeAll(async () => {
    app = await createTestApp('pglite', { modules: [lanModule()] });
    http = (await listenLan(app)).http;
    // A fresh PGlite template takes long on a busy machine.
  }, 180_000);
  afterAll(async () => {
    await app.close();
  });

  it('runs as printed (package import included): prints the ticket and bumps it', async () => {
    const code = docsExample();
    expect(code.split('\n').length).toBeLessThanOrEqual(20);
    // Inside the package, so `mupzaos-comms/device` resolves through package.json "exports" (the
    // "mupzaos-source" condition: the sources, as the test suite runs without a build).
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    const file = join(ROOT, 'test-artifacts/sdk-example.ts');
    writeFileSync(file, code);
    const token = await registerDevice(app, app.ownerToken, 'pos-example', 'pos', 'POS example');
    const child = spawn(process.execPath, ['--conditions=mupzaos-source', 'bin/run-ts.mjs', file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HUB_URL: http, DEVICE_TOKEN: token, LAST_SEQ: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitFor(async () => out.includes('link: open connected'), 20_000);
      expect(out).toContain('hub internet: unknown');
      const r = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/notifications',
        payload: {
          target: { device: 'pos-example' },
          title: 'Ticket 7 ready',
          body: 'Table 3',
          source: 'kitchen',
        },
      });
      const id = (r.json() as { id: string }).id;
      await waitFor(async () => out.includes('#1 done by POS example'), 10_000);
      expect(out).toContain('#1 kitchen: Ticket 7 ready — Table 3');
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'read');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
