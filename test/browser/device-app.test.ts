import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { en, ru, az } from '../../web/src/device/i18n.ts';
import {
  ROOT,
  axeScan,
  browserSuiteEnabled,
  ensurePanelBuilt,
  horizontalOverflow,
  launchChromium,
} from './browser.ts';

/**
 * The device app (/device) end to end in Chromium: paired from a code made in the owner panel,
 * live kitchen notifications with a chime, done/undo across two screens, reload, the hub's
 * internet state, revocation, accessibility and screenshots. Tests run in order on shared pages.
 */

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SCREENSHOTS = join(ROOT, 'docs/screenshots');
const DICT = { az, ru, en } as const;

describe.skipIf(!browserSuiteEnabled())('device app in Chromium [browser] [pglite]', () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  let owner: Page;
  const contexts: BrowserContext[] = [];
  let screen1: Page;
  let screen2: Page;
  let device1 = '';
  let device2 = '';
  let rowId = '';
  const pageErrors: string[] = [];

  const newScreen = async (width: number, height: number): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width, height } });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    const p = await ctx.newPage();
    p.on('pageerror', (e) => pageErrors.push(String(e)));
    // Count chimes (the app fires this event on every chime, muted audio or not).
    await p.addInitScript(() => {
      const w = window as unknown as { chimes: number; chimeAt: number };
      w.chimes = 0;
      w.chimeAt = 0;
      window.addEventListener('mupza:chime', () => {
        w.chimes++;
        w.chimeAt = Date.now();
      });
    });
    return p;
  };
  const chimes = (p: Page) => p.evaluate(() => (window as unknown as { chimes: number }).chimes);
  const items = (p: Page) =>
    p.locator('[data-testid^="device-item-"]').evaluateAll((els) =>
      els.map((e) => ({
        seq: Number(e.getAttribute('data-testid')!.slice(12)),
        id: e.getAttribute('data-id'),
        done: e.getAttribute('data-done'),
        title: e.querySelector('h2')?.textContent,
      })),
    );
  const post = async (title: string, role = 'kitchen') => {
    const r = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/notifications',
      payload: { target: { role }, title, body: `${title} body`, source: 'kitchen' },
    });
    expect(r.statusCode, r.body).toBe(202);
    return (r.json() as { id: string }).id;
  };
  const pairCode = async (role: string, name: string) => {
    const r = await app.as(app.ownerToken, {
      method: 'POST',
      url: '/api/v1/lan/pairings',
      payload: { role, name },
    });
    return (r.json() as { code: string }).code;
  };
  const deviceIdOf = (p: Page) =>
    p.evaluate(
      () =>
        (JSON.parse(localStorage.getItem('mupza.device.pairing') ?? 'null') as { deviceId: string } | null)
          ?.deviceId ?? '',
    );

  beforeAll(async () => {
    ensurePanelBuilt();
    app = await createTestApp('pglite');
    base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    owner = await ctx.newPage();
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
  });

  it('[browser] the owner makes a code in the panel; a screen opens its QR link, pairs, gets a kitchen notification within 1 s and chimes', async () => {
    await owner.goto(`${base}/#token=${app.ownerToken}`);
    await owner.getByTestId('pair-role').selectOption('kitchen');
    await owner.getByTestId('pair-name').fill('Kitchen screen 1');
    await owner.getByTestId('pair-create').click();
    const code = (await owner.getByTestId('pair-code-shown').innerText()).trim();
    expect(code).toMatch(/^[A-Z2-9]{8}$/);
    const url = await owner.getByTestId('pair-qr').getAttribute('data-url');
    expect(url).toBe(`${base}/device#code=${code}`);
    expect(await owner.locator('[data-testid="pair-qr"] svg').count()).toBe(1);

    screen1 = await newScreen(1024, 600);
    await screen1.goto(url!);
    // The code came from the link and left the address bar.
    expect(await screen1.getByTestId('pair-code').inputValue()).toBe(code);
    expect(screen1.url()).not.toContain(code);
    await screen1.getByTestId('pair-submit').click();
    await expect.poll(() => screen1.getByTestId('device-link').getAttribute('data-state')).toBe('live');
    device1 = await deviceIdOf(screen1);
    expect(device1).toMatch(/^kitchen-/);

    // Timed inside the page (the chime fires as the item is added), not by the test's polling.
    const t0 = Date.now();
    rowId = await post('Ticket 12 ready');
    await screen1.locator('[data-testid^="device-item-"]').first().waitFor();
    await expect.poll(() => chimes(screen1)).toBe(1);
    const chimeAt = await screen1.evaluate(() => (window as unknown as { chimeAt: number }).chimeAt);
    expect(chimeAt - t0).toBeLessThan(1_000);
    expect(await screen1.getByTestId('device-unread').getAttribute('data-count')).toBe('1');
  });

  it('[browser] Done makes the row read (actor device:<id>); the second screen shows "done by" without reload; Undo restores both', async () => {
    screen2 = await newScreen(390, 844);
    await screen2.goto(`${base}/device`);
    await screen2.getByTestId('pair-code').fill(await pairCode('kitchen', 'Kitchen screen 2'));
    await screen2.getByTestId('pair-submit').click();
    await expect.poll(() => screen2.getByTestId('device-link').getAttribute('data-state')).toBe('live');
    device2 = await deviceIdOf(screen2);
    const shared = await post('Table 4 plov');
    await screen1.locator(`[data-id="${shared}"]`).waitFor();
    await screen2.locator(`[data-id="${shared}"]`).waitFor();

    await screen1.locator(`[data-id="${shared}"] [data-testid^="device-done-"]`).click();
    await expect.poll(() => screen2.locator(`[data-id="${shared}"]`).getAttribute('data-done')).toBe('true');
    expect(await screen2.locator(`[data-id="${shared}"] [data-testid^="device-doneby-"]`).innerText()).toBe(
      az.doneBy.replace('{name}', 'Kitchen screen 1'),
    );
    await expect.poll(() => screen1.locator(`[data-id="${shared}"]`).getAttribute('data-done')).toBe('true');
    await waitFor(async () => {
      const r = (await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${shared}` })).json() as {
        status: string;
      };
      return r.status === 'read';
    });
    const audit = (
      await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${shared}/audit` })
    ).json() as {
      events: { actor: string; to: string | null; action: string }[];
    };
    expect(audit.events.find((e) => e.to === 'read')).toMatchObject({
      actor: `device:${device1}`,
      action: 'device_done',
    });

    await screen2.locator(`[data-id="${shared}"] [data-testid^="device-undo-"]`).click();
    await expect.poll(() => screen1.locator(`[data-id="${shared}"]`).getAttribute('data-done')).toBe('false');
    await expect.poll(() => screen2.locator(`[data-id="${shared}"]`).getAttribute('data-done')).toBe('false');
  });

  it('[browser] a reload shows every item once, loses nothing and does not pair again', async () => {
    const before = await items(screen1);
    const pairings = (
      await app.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM lan_pairings WHERE used_at IS NOT NULL',
      )
    ).rows[0]!.n;
    await screen1.reload();
    await expect.poll(() => screen1.getByTestId('device-link').getAttribute('data-state')).toBe('live');
    await post('After reload');
    await expect.poll(async () => (await items(screen1)).length).toBe(before.length + 1);
    const after = await items(screen1);
    expect(after.slice(1)).toEqual(before);
    expect(new Set(after.map((i) => i.seq)).size).toBe(after.length);
    expect(after[0]!.title).toBe('After reload');
    expect(await deviceIdOf(screen1)).toBe(device1);
    expect(
      (
        await app.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM lan_pairings WHERE used_at IS NOT NULL',
        )
      ).rows[0]!.n,
    ).toBe(pairings);
  });

  it('[browser] when the hub reports its internet down, the page and readiness say so and notifications still arrive', async () => {
    const state = app.rt.state as { internet: () => 'up' | 'down' | 'unknown' };
    const real = state.internet;
    state.internet = () => 'down';
    try {
      await screen1.getByTestId('device-internet').waitFor();
      expect(await screen1.getByTestId('device-internet').innerText()).toBe(az['state.internetDown']);
      const r = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
        internet: string;
      };
      expect(r.internet).toBe('down');
      await owner.reload();
      await expect.poll(() => owner.getByTestId('hub-internet').getAttribute('data-state')).toBe('down');
      const id = await post('While offline');
      await screen1.locator(`[data-id="${id}"]`).waitFor();
    } finally {
      state.internet = real;
    }
    await screen1.getByTestId('device-internet').waitFor({ state: 'detached' });
  });

  it('[browser] axe finds nothing serious or critical; nothing overflows at 1024x600 and 390 px', async () => {
    for (const p of [screen1, screen2]) {
      const v = (await axeScan(p)).filter((x) => x.impact === 'serious' || x.impact === 'critical');
      expect(v, JSON.stringify(v, null, 1)).toEqual([]);
      expect((await horizontalOverflow(p)).overflow).toBeLessThanOrEqual(0);
    }
    const fresh = await newScreen(360, 640);
    await fresh.goto(`${base}/device`);
    await fresh.getByTestId('pair-form').waitFor();
    const v = (await axeScan(fresh)).filter((x) => x.impact === 'serious' || x.impact === 'critical');
    expect(v, JSON.stringify(v, null, 1)).toEqual([]);
    expect((await horizontalOverflow(fresh)).overflow).toBeLessThanOrEqual(0);
  });

  it('[browser] screenshots at 1024x600 and 390 px in az, ru and en', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // One item done on the kitchen screen: the phone shows who has it.
    const plov = screen1.locator('[data-testid^="device-item-"]').filter({ hasText: 'Table 4 plov' });
    await plov.locator('[data-testid^="device-done-"]').click();
    await expect
      .poll(() =>
        screen2
          .locator('[data-testid^="device-item-"]')
          .filter({ hasText: 'Table 4 plov' })
          .getAttribute('data-done'),
      )
      .toBe('true');
    for (const [p, size] of [
      [screen1, '1024x600'],
      [screen2, '390'],
    ] as const) {
      for (const lang of ['az', 'ru', 'en'] as const) {
        await p.getByTestId(`device-lang-${lang}`).click();
        expect(await p.getByTestId('device-unread').innerText()).toContain(
          DICT[lang].unread.replace('{n}', '').trim(),
        );
        await p.screenshot({
          path: join(ARTIFACTS, `device-${size}-${lang}.png`),
          fullPage: size !== '1024x600',
          animations: 'disabled',
        });
      }
      await p.getByTestId('device-lang-az').click();
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    copyFileSync(join(ARTIFACTS, 'device-1024x600-en.png'), join(SCREENSHOTS, 'device-1024x600-en.png'));
    copyFileSync(join(ARTIFACTS, 'device-390-az.png'), join(SCREENSHOTS, 'device-390-az.png'));
  });

  it('[browser] revoking the screen in the panel logs the page out within 5 s', async () => {
    await owner.reload();
    await owner.getByTestId(`device-revoke-${device2}`).click();
    await owner.getByTestId('confirm-ok').click();
    const t0 = Date.now();
    await screen2.getByTestId('pair-form').waitFor({ timeout: 5_000 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await screen2.getByTestId('device-notice').innerText()).toBe(az['pair.loggedOut']);
    expect(await screen2.evaluate(() => localStorage.getItem('mupza.device.pairing'))).toBeNull();
    expect(pageErrors).toEqual([]);
    void rowId;
  });
});
