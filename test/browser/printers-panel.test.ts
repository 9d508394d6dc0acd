import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { FakeEscPosPrinter } from '../fakes/escpos-printer.ts';
import { notify, registerPrinter, TEST_PRINTER_TIMEOUTS } from '../printers/helpers.ts';
import { az } from '../../web/src/i18n/az.ts';
import { en } from '../../web/src/i18n/en.ts';
import { ru } from '../../web/src/i18n/ru.ts';
import {
  ROOT,
  axeScan,
  browserSuiteEnabled,
  ensurePanelBuilt,
  horizontalOverflow,
  launchChromium,
} from './browser.ts';

/**
 * The owner panel's kitchen printers in Chromium: a printer out of paper is shown offline with the
 * reason and its waiting ticket; paper back, it is shown ready. Tickets held after an outage are
 * listed and printed on release from the page. Real TCP to the test ESC/POS printer.
 */

const ARTIFACTS = join(ROOT, 'test-artifacts');
const DICT = { az, ru, en } as const;

describe.skipIf(!browserSuiteEnabled())('kitchen printers in the owner panel [browser] [pglite]', () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let printer: FakeEscPosPrinter;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensurePanelBuilt();
    printer = new FakeEscPosPrinter();
    const port = await printer.start();
    app = await createTestApp('pglite', { modules: [lanModule({ printerTimeouts: TEST_PRINTER_TIMEOUTS })] });
    base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
    await registerPrinter(app, 'printer-01', 'Mətbəx printeri', { address: `tcp://127.0.0.1:${port}` });
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1024, height: 600 } });
    ctx.setDefaultTimeout(10_000);
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 180_000);

  afterAll(async () => {
    await ctx?.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    await printer?.stop();
  });

  const card = () => page.getByTestId('printer-printer-01');
  /** Signs in (token in the fragment) and shows the page in `lang` (the panel keeps the choice). */
  const open = async (lang: 'az' | 'ru' | 'en') => {
    await page.goto(`${base}/#token=${app.ownerToken}`);
    await page.getByTestId(`lang-${lang}`).click();
    await card().waitFor();
  };
  const refresh = async () => page.getByTestId('devices-refresh').click();

  it('[browser] out of paper: the printer is offline with the reason and its waiting ticket; paper back: ready, printed', async () => {
    printer.setPaperEnd(true);
    const id = await notify(app, { device: 'printer-01' }, 'Masa 4: dolma', 'Dolma x2');
    await open('en');
    await waitFor(async () => {
      await refresh();
      return (await card().getAttribute('data-state')) === 'offline';
    }, 15_000);
    await expect
      .poll(async () => page.getByTestId('printer-reason-printer-01').textContent())
      .toBe(en['printers.reason.paper_end']);
    expect(await card().textContent()).toContain(en['printers.waitingNoBackup']);

    for (const lang of ['az', 'ru', 'en'] as const) {
      for (const [w, h] of [
        [1024, 600],
        [390, 844],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await open(lang);
        expect(await page.getByTestId('printer-reason-printer-01').textContent()).toBe(
          DICT[lang]['printers.reason.paper_end'],
        );
        expect((await horizontalOverflow(page)).overflow, `${lang} ${w}px`).toBeLessThanOrEqual(0);
        await card().scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(ARTIFACTS, `printers-${lang}-${w}.png`) });
      }
    }
    await page.setViewportSize({ width: 1024, height: 600 });

    printer.setPaperEnd(false);
    await waitFor(async () => printer.tickets.some((t) => t.lines.includes('Masa 4: dolma')), 15_000);
    await waitFor(async () => {
      await refresh();
      return (await card().getAttribute('data-state')) === 'online';
    }, 15_000);
    expect(await page.getByTestId('printer-reason-printer-01').count()).toBe(0);
    const row = (await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` })).json() as {
      status: string;
    };
    expect(['sent', 'delivered']).toContain(row.status);
  });

  it('[browser] a ticket held after an outage is listed and prints when staff release it from the page', async () => {
    printer.setPaperEnd(true);
    const id = await notify(app, { device: 'printer-01' }, 'Masa 9: kabab', 'Lülə x1');
    await waitFor(async () => {
      const l = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/printers' })).json() as {
        printers: { id: string; state: string; waiting: number }[];
      };
      return l.printers.some((p) => p.id === 'printer-01' && p.state === 'offline' && p.waiting > 0);
    }, 15_000);
    // The ticket has waited longer than the tenant's hold-after (15 min) when the paper comes back.
    await app.db.query(
      `UPDATE lan_inbox SET created_at = now() - interval '40 minutes' WHERE tenant_id = 'acme' AND device_id = 'printer-01' AND outbox_id = $1`,
      [id],
    );
    printer.setPaperEnd(false);
    await open('en');
    const held = page.locator('[data-testid^="held-printer-01-"]');
    await waitFor(async () => {
      await refresh();
      return (await held.count()) === 1;
    }, 20_000);
    expect(await held.first().textContent()).toContain('Masa 9: kabab');
    expect(printer.tickets.some((t) => t.lines.includes('Masa 9: kabab'))).toBe(false);

    const axe = await axeScan(page);
    expect(axe.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

    await held.first().getByRole('button', { name: en['printers.release'] }).click();
    const confirm = page.getByRole('dialog').getByRole('button', { name: en['printers.release'] });
    if (await confirm.count()) await confirm.click();
    await waitFor(async () => printer.tickets.some((t) => t.lines.includes('Masa 9: kabab')), 15_000);
    await waitFor(async () => {
      await refresh();
      return (await held.count()) === 0;
    }, 15_000);
    expect(pageErrors).toEqual([]);
  });
});
