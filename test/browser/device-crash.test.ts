import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { freePort, startChild, type ChildService } from '../helpers/child.ts';
import { browserSuiteEnabled, ensurePanelBuilt, launchChromium } from './browser.ts';

const OWNER = 'mz_owner_device-crash-suite-0001';

async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${OWNER}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * The service as a real child process, SIGKILLed while the device page is open: the page says the
 * hub is unreachable within 5 s and, after the restart, shows everything posted since, in order,
 * each once, without a reload.
 */
describe.skipIf(!browserSuiteEnabled())('device app across a hub crash [browser] [pglite]', () => {
  const children: ChildService[] = [];
  let browser: Browser | null = null;
  let dataDir: string | null = null;
  afterAll(async () => {
    await browser?.close();
    for (const c of children) await c.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('[browser] SIGKILL: "hub unreachable" within 5 s; 20 posted after the restart all show, in order, once', async () => {
    ensurePanelBuilt();
    const port = await freePort();
    dataDir = await mkdtemp(join(tmpdir(), 'comms-device-crash-'));
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      COMMS_BOOTSTRAP_OWNER_TOKEN: OWNER,
      DATA_DIR: dataDir,
    };
    const base = `http://127.0.0.1:${port}`;
    const first = startChild('serve', env);
    children.push(first);
    await first.waitForLine(/API and owner panel on/, 90_000);

    const made = await api(base, 'POST', '/api/v1/lan/pairings', { role: 'kitchen', name: 'Line screen' });
    expect(made.status).toBe(201);
    browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1024, height: 600 } })).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${base}/device#code=${String(made.json.code)}`);
    await page.getByTestId('pair-submit').click();
    await expect.poll(() => page.getByTestId('device-link').getAttribute('data-state')).toBe('live');

    await first.kill('SIGKILL');
    const t0 = Date.now();
    await expect
      .poll(() => page.getByTestId('device-link').getAttribute('data-state'), {
        timeout: 5_000,
        interval: 50,
      })
      .toBe('hubDown');
    expect(Date.now() - t0).toBeLessThan(5_000);

    const second = startChild('serve', env);
    children.push(second);
    await second.waitForLine(/API and owner panel on/, 90_000);
    for (let i = 1; i <= 20; i++) {
      const r = await api(base, 'POST', '/api/v1/lan/notifications', {
        target: { role: 'kitchen' },
        title: `Ticket ${i}`,
        body: `Order ${i}`,
        source: 'kitchen',
      });
      expect(r.status).toBe(202);
    }
    // The page reconnects by itself (jittered backoff, at most 15 s) and replays what it missed.
    await expect
      .poll(() => page.locator('[data-testid^="device-item-"]').count(), { timeout: 30_000 })
      .toBe(20);
    const shown = await page.locator('[data-testid^="device-item-"] h2').allInnerTexts();
    expect(shown).toEqual(Array.from({ length: 20 }, (_, i) => `Ticket ${20 - i}`));
    expect(await page.getByTestId('device-link').getAttribute('data-state')).toBe('live');
    // Two service starts (PGlite) and a browser on a shared machine.
  }, 300_000);
});
