import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTurnstileFake, type TurnstileFake } from '../fakes/turnstile-siteverify.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { otpModule } from '../../src/otp/module.ts';
import {
  ROOT,
  browserSuiteEnabled,
  ensurePanelBuilt,
  horizontalOverflow,
  launchChromium,
} from './browser.ts';

/**
 * The sign-in page with Cloudflare Turnstile configured (QA runtime, Cloudflare's dummy keys, the
 * siteverify fake). The machine has no internet: Cloudflare's script is answered by a stub that
 * implements the part of `turnstile.render` the page uses and hands out Cloudflare's dummy token.
 */
const PHONE = '+994500000077';
const CODE = '5528193047';
const STUB = `window.turnstile = {
  render(el, o) {
    const b = document.createElement('div');
    b.textContent = 'Turnstile (' + o.action + ', ' + o.language + ')';
    b.style.cssText = 'border:1px solid #bbb;padding:12px;width:300px;max-width:100%;box-sizing:border-box;font:14px sans-serif';
    el.appendChild(b);
    setTimeout(() => o.callback('XXXX.DUMMY.TOKEN.XXXX'), 50);
    return 'w' + Math.random();
  },
  remove() {},
};`;

describe.skipIf(!browserSuiteEnabled())('sign-in page with Turnstile [browser] [pglite]', () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  let ts: TurnstileFake;

  beforeAll(async () => {
    ensurePanelBuilt();
    ts = await startTurnstileFake({ secret: 'unused-real-secret' });
    app = await createTestApp('pglite', {
      seedDemo: true,
      modules: [otpModule()],
      env: {
        OTP_TEST_NUMBERS: `${PHONE}:${CODE}`,
        CLOUDFLARE_TURNSTILE_SITE_KEY: '1x00000000000000000000AA',
        CLOUDFLARE_TURNSTILE_SECRET_KEY: '1x0000000000000000000000000000000AA',
        CLOUDFLARE_TURNSTILE_VERIFY_URL: ts.verifyUrl,
      },
    });
    base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await ts?.close();
  });

  it('the page allows Cloudflare in its CSP, shows the widget, and the widget token signs a QA test number in', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.headers['content-security-policy']).toMatch(
      /script-src 'self' https:\/\/challenges\.cloudflare\.com/,
    );
    expect(res.headers['content-security-policy']).toMatch(/frame-src https:\/\/challenges\.cloudflare\.com/);

    const shots = join(ROOT, '.tmp/screens');
    mkdirSync(shots, { recursive: true });
    for (const lang of ['az', 'ru', 'en'] as const) {
      for (const [w, h] of [
        [1024, 600],
        [390, 844],
      ] as const) {
        const ctx = await browser.newContext({ viewport: { width: w, height: h } });
        await ctx.route('https://challenges.cloudflare.com/**', (r) =>
          r.fulfill({ status: 200, contentType: 'text/javascript', body: STUB }),
        );
        await ctx.addInitScript((l) => localStorage.setItem('mupza.lang', l), lang);
        const page = await ctx.newPage();
        await page.goto(base);
        await expect
          .poll(() => page.getByTestId('turnstile-widget').textContent())
          .toContain(`otp_start, ${lang}`);
        expect((await horizontalOverflow(page)).overflow).toBe(0);
        await page.screenshot({ path: join(shots, `signin-turnstile-${lang}-${w}.png`), fullPage: true });
        await ctx.close();
      }
    }

    const before = ts.requestCount;
    const ctx = await browser.newContext({ viewport: { width: 1024, height: 600 } });
    await ctx.route('https://challenges.cloudflare.com/**', (r) =>
      r.fulfill({ status: 200, contentType: 'text/javascript', body: STUB }),
    );
    const page = await ctx.newPage();
    await page.goto(base);
    await expect.poll(() => page.getByTestId('turnstile-widget').textContent()).toContain('otp_start');
    await page.getByTestId('otp-phone').fill(PHONE);
    await page.getByTestId('otp-send').click();
    await page.getByTestId('otp-check-form').waitFor();
    // The start went through siteverify (the dummy always-pass secret) with the widget's token.
    expect(ts.requestCount).toBe(before + 1);
    expect(ts.receipts.at(-1)!.body).toMatchObject({ response: 'XXXX.DUMMY.TOKEN.XXXX', success: true });
    await ctx.close();
  }, 120_000);
});
