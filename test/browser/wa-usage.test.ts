import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { az } from '../../web/src/i18n/az.ts';
import { en } from '../../web/src/i18n/en.ts';
import { ru } from '../../web/src/i18n/ru.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import {
  ROOT,
  browserSuiteEnabled,
  ensurePanelBuilt,
  horizontalOverflow,
  launchChromium,
} from './browser.ts';

/**
 * The panel's monthly WhatsApp usage card: counts by Meta pricing category and billable/free from the
 * statuses Meta reported (seeded as the webhook processor stores them), the AZN estimate from the
 * price table, and the warning once 80 % of the tenant's WHATSAPP_MONTHLY_CAP is used.
 */
const TOKEN = 'mz_owner_wa-usage-suite-bootstrap-01';
const DICT = { az, ru, en } as const;

describe.skipIf(!browserSuiteEnabled())('WhatsApp usage on the panel [browser] [pglite]', () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  let n = 0;

  /** One message's status with Meta's pricing object, stored for the demo tenant this month. */
  const status = (category: string, billable: boolean) =>
    app.db.query(
      `INSERT INTO whatsapp_status_events (wamid, status, tenant_id, outcome, pricing)
       VALUES ($1, 'delivered', 'demo', 'unmatched', $2::jsonb)`,
      [
        `wamid.usage-${++n}`,
        JSON.stringify({
          billable,
          pricing_model: 'PMP',
          category,
          type: billable ? 'regular' : 'free_customer_service',
        }),
      ],
    );

  beforeAll(async () => {
    ensurePanelBuilt();
    app = await createTestApp('pglite', {
      seedDemo: true,
      env: {
        COMMS_BOOTSTRAP_OWNER_TOKEN: TOKEN,
        WHATSAPP_PRICE_TABLE_AZN: 'marketing=0.086,utility=0.0145',
        WHATSAPP_MONTHLY_CAP: 'demo=5',
      },
    });
    base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const open = async (lang: 'az' | 'ru' | 'en', width: number, height: number) => {
    const ctx = await browser.newContext({ viewport: { width, height } });
    ctx.setDefaultTimeout(10_000);
    const page = await ctx.newPage();
    await page.goto(base);
    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('header').waitFor();
    await page.getByTestId(`lang-${lang}`).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(DICT[lang]['app.title']);
    await page.getByTestId('wa-usage-billable').waitFor();
    return { ctx, page };
  };

  it('below 80 % of the cap: counts by category and billable/free, the AZN estimate, no warning', async () => {
    await status('utility', true);
    await status('utility', true);
    await status('marketing', true);
    await status('service', false);
    const { ctx, page } = await open('en', 1024, 600);
    try {
      expect(await page.getByTestId('wa-usage-utility-billable').innerText()).toMatch(
        /Utility[\s\S]*billable[\s\S]*2/,
      );
      expect(await page.getByTestId('wa-usage-marketing-billable').innerText()).toContain('1');
      expect(await page.getByTestId('wa-usage-service-free').innerText()).toMatch(
        /Service[\s\S]*free[\s\S]*1/,
      );
      expect(await page.getByTestId('wa-usage-billable').innerText()).toBe('3');
      expect(await page.getByTestId('wa-usage-free').innerText()).toBe('1');
      // 2 x 0.0145 + 1 x 0.086 = 0.115 AZN.
      expect(await page.getByTestId('wa-usage-estimate').innerText()).toMatch(/0[.,]1[12]/);
      expect(await page.getByTestId('wa-usage-cap').innerText()).toBe('3 of 5');
      expect(await page.getByTestId('wa-usage-cap-warning').count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  it('at 80 % the warning shows in az, ru and en; at 1024x600 and 390 px nothing overflows', async () => {
    await status('utility', true); // 4 of 5 = 80 %
    const shots = join(ROOT, '.tmp/screens');
    mkdirSync(shots, { recursive: true });
    for (const lang of ['az', 'ru', 'en'] as const) {
      for (const [w, h] of [
        [1024, 600],
        [390, 844],
      ] as const) {
        const { ctx, page } = await open(lang, w, h);
        try {
          const warning = page.getByTestId('wa-usage-cap-warning');
          await warning.waitFor();
          expect(await warning.getAttribute('role')).toBe('alert');
          expect(await warning.innerText()).toBe(
            DICT[lang]['waUsage.capWarning']
              .replace('{percent}', '80')
              .replace('{used}', '4')
              .replace('{limit}', '5'),
          );
          const card = page.getByTestId('wa-usage');
          await card.scrollIntoViewIfNeeded();
          const o = await horizontalOverflow(page);
          expect(o.overflow, o.culprits.join(', ')).toBe(0);
          await card.screenshot({ path: join(shots, `wa-usage-${lang}-${w}.png`), animations: 'disabled' });
        } finally {
          await ctx.close();
        }
      }
    }
  }, 120_000);

  it('at the cap the warning says template sends are blocked', async () => {
    await status('marketing', true); // 5 of 5
    const { ctx, page } = await open('ru', 390, 844);
    try {
      expect(await page.getByTestId('wa-usage-cap-warning').innerText()).toBe(
        ru['waUsage.capReached'].replace('{used}', '5').replace('{limit}', '5'),
      );
    } finally {
      await ctx.close();
    }
  });
});
