import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Browser, BrowserContext, Locator, Page, Response } from 'playwright-core';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { checkForCanaries } from '../helpers/canary.ts';
import type { NotificationMessage, ServerMessage } from '../../src/lan/protocol.ts';
import { az } from '../../web/src/i18n/az.ts';
import { en } from '../../web/src/i18n/en.ts';
import { ru } from '../../web/src/i18n/ru.ts';
import { ADAPTER_TRANSLATIONS, CONTRACT_TRANSLATIONS } from '../../web/src/i18n/catalog.ts';
import { translateReason } from '../../web/src/i18n/reasons.ts';
import { DEMO_SAMPLE_TEXT } from '../../src/app/demo-seed.ts';
import {
  ROOT,
  axeScan,
  browserSuiteEnabled,
  ensurePanelBuilt,
  horizontalOverflow,
  launchChromium,
  probeFocus,
} from './browser.ts';

/**
 * The owner panel end to end: the built SPA served by a real listening service (PGlite, demo
 * tenant seeded through the real pipeline) and driven in Debian's Chromium. The tests share one
 * signed-in page and run in order, each building on the state the previous one left.
 */

const TOKEN = 'mz_owner_browser-suite-bootstrap-0001';
const OTP_PHONE = '+994500000099';
const OTP_CODE = '482913';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const SCREENSHOTS = join(ROOT, 'docs/screenshots');
const DICT = { az, ru, en } as const;
/** The demo tenant speaks Azerbaijani: its sample items are written in it. */
const SEED = DEMO_SAMPLE_TEXT.az;

/** A LAN device as integrators write one: the raw `ws` protocol, acks sent when the test says so. */
class TestDevice {
  readonly got: NotificationMessage[] = [];
  readonly hello: Promise<Extract<ServerMessage, { type: 'hello' }>>;
  private constructor(readonly ws: WebSocket) {
    this.hello = new Promise((resolve, reject) => {
      ws.on('message', (raw) => {
        const text = raw.toString();
        checkForCanaries('lan frame', text);
        const m = JSON.parse(text) as ServerMessage;
        if (m.type === 'hello') {
          resolve(m);
          ws.send(JSON.stringify({ type: 'resume' }));
        } else if (m.type === 'notification') this.got.push(m);
        else if (m.type === 'error') reject(new Error(`hub error ${m.error}: ${m.message}`));
      });
      ws.on('error', reject);
      // Closed before hello (a refused token): settle instead of waiting forever.
      ws.on('close', (code) => reject(new Error(`closed before hello: ${code}`)));
      ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }
  static async connect(base: string, token: string): Promise<TestDevice> {
    const d = new TestDevice(
      new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/lan/ws`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    await d.hello;
    return d;
  }
  ack(seq: number): void {
    this.ws.send(JSON.stringify({ type: 'ack', seq }));
  }
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }
}

describe.skipIf(!browserSuiteEnabled())('owner panel in Chromium [browser] [pglite]', () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const devices: TestDevice[] = [];
  /** The device registered in the panel, and its token (revoked later in the run). */
  let tablet: TestDevice | null = null;
  let tabletToken = '';
  const bodyChecks: Promise<unknown>[] = [];
  const pageErrors: string[] = [];

  /** Every answer the browser gets (API JSON, HTML, JS, CSS) goes through the canary check too. */
  function watch(ctx: BrowserContext): void {
    // Fail a step with Playwright's own message (what it waited for) well before vitest's 30 s.
    ctx.setDefaultTimeout(8_000);
    ctx.on('response', (r: Response) => {
      if ((r.headers()['content-type'] ?? '').includes('text/event-stream')) return;
      bodyChecks.push(
        r.text().then(
          (t) => checkForCanaries(`browser ${r.request().method()} ${r.url()}`, t),
          () => undefined,
        ),
      );
    });
    ctx.on('page', (p) => {
      p.on('pageerror', (e) => pageErrors.push(String(e)));
      // The browser's own network lines (a 401 for the wrong token on purpose) are not script errors.
      p.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
          pageErrors.push(m.text());
      });
    });
  }

  const item = (title: string): Locator =>
    page.locator('[data-testid^="outbox-item-"]').filter({ has: page.locator('h3', { hasText: title }) });
  const api = async <T>(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<T> => {
    const res = await app.as(TOKEN, {
      method,
      url,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json() as T;
  };
  const outboxByTitle = async (title: string) => {
    const { items } = await api<{
      items: { id: string; title: string | null; status: string; target: string }[];
    }>('GET', '/api/v1/outbox?limit=200');
    const found = items.find((i) => i.title === title);
    expect(found, `outbox item "${title}"`).toBeTruthy();
    return found!;
  };

  beforeAll(async () => {
    ensurePanelBuilt();
    app = await createTestApp('pglite', {
      seedDemo: true,
      // The other secrets stay set to canaries (checked in every answer the browser gets); the
      // Telegram ones are unset so the page shows the seed page's fresh-install counts (4 env-required).
      env: {
        COMMS_BOOTSTRAP_OWNER_TOKEN: TOKEN,
        TELEGRAM_BOT_TOKEN: undefined,
        TELEGRAM_WEBHOOK_SECRET: undefined,
        TELEGRAM_BOT_USERNAME: 'mupza_demo_bot',
        // QA sign-in without an SMS provider: this number is registered as a phone of the demo owner.
        OTP_TEST_NUMBERS: `${OTP_PHONE}:${OTP_CODE}`,
      },
    });
    base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    watch(context);
    page = await context.newPage();
  });

  // A failing step leaves a picture of the page behind (CI keeps test-artifacts/).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    const name = ctx.task.name
      .replace(/\[[a-z]+\]/g, '')
      .trim()
      .replace(/[^a-z0-9]+/gi, '-')
      .slice(0, 60);
    await page
      .screenshot({ path: join(ARTIFACTS, `failed-${name}.png`), fullPage: true })
      .catch(() => undefined);
    writeFileSync(
      join(ARTIFACTS, `failed-${name}.html`),
      await page.content().catch((e: unknown) => String(e)),
    );
    writeFileSync(join(ARTIFACTS, `failed-${name}.errors.txt`), pageErrors.join('\n'));
    // Start the next test from a clean page (no dialog left open); the session survives a reload.
    await page.reload().catch(() => undefined);
    await page
      .getByTestId('header')
      .waitFor()
      .catch(() => undefined);
  });

  afterAll(async () => {
    for (const d of devices) await d.close().catch(() => undefined);
    await browser?.close();
    await Promise.allSettled(bodyChecks);
    await app?.close();
  });

  it('[browser] [pglite] a login link #token=… signs the owner in, leaves the token out of the address bar, shows the tenant header', async () => {
    await page.goto(`${base}/#token=${TOKEN}`);
    await expect.poll(() => page.getByTestId('header').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toBe('');
    expect(page.url()).not.toContain(TOKEN);
    await expect.poll(() => page.getByTestId('tenant').innerText()).toContain('MUPZA Demo Restaurant');
    expect(await page.getByTestId('tenant-country').innerText()).toBe('AZ');
    expect(await page.getByTestId('tenant-currency').innerText()).toBe('AZN');
    // The demo tenant's locale is az: the page starts in Azerbaijani.
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('az');
    expect(await page.locator('h1').innerText()).toBe(az['app.title']);
    // The account is the one the API says is signed in (subject and role), not fixed text.
    const me = await api<{ subject: string; role: string }>('GET', '/api/v1/me');
    expect(me).toMatchObject({ subject: 'demo-owner', role: 'owner' });
    expect(await page.getByTestId('account-subject').innerText()).toBe(me.subject);
    expect(await page.getByTestId('account-role').innerText()).toBe(az['account.role.owner']);
    expect(await page.getByTestId('account').isVisible()).toBe(true);
    // The live stream is open (fetch-streamed SSE with the owner token).
    await expect.poll(() => page.getByTestId('live-status').getAttribute('data-state')).toBe('open');
  });

  it('[browser] [pglite] the token field refuses a wrong token with a message, then signs in with the right one', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    watch(ctx);
    try {
      const p = await ctx.newPage();
      await p.goto(base);
      await p.getByTestId('signin').waitFor();
      expect(await p.getByTestId('signin-runtime').innerText()).toContain(az['runtime.qa']);
      const signInAxe = (await axeScan(p)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(signInAxe, JSON.stringify(signInAxe, null, 2)).toEqual([]);
      await p.getByTestId('token-input').fill('mz_owner_not-a-real-token-000000');
      await p.getByTestId('token-submit').click();
      await p.getByTestId('token-error').waitFor();
      expect(await p.getByTestId('header').count()).toBe(0);
      await p.getByTestId('token-input').fill(TOKEN);
      await p.getByTestId('token-submit').click();
      await p.getByTestId('header').waitFor();
      expect(await p.getByTestId('tenant').innerText()).toContain('MUPZA Demo Restaurant');
      // The session is kept for the tab: a reload stays signed in.
      await p.reload();
      await p.getByTestId('header').waitFor();
      expect(await p.getByTestId('signin').count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  it('[browser] [pglite] token sign-in is offered in qa but not when the API reports a production runtime', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    watch(ctx);
    try {
      const p = await ctx.newPage();
      await p.goto(base);
      await p.getByTestId('signin-runtime').waitFor();
      expect(await p.getByTestId('token-signin').isVisible()).toBe(true);
      // The same service answering runtime: production (what /api/v1/auth/config says there).
      await p.route('**/api/v1/auth/config', async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as { runtime: string };
        expect(body.runtime).toBe('qa');
        await route.fulfill({ response: res, json: { ...body, runtime: 'production' } });
      });
      await p.reload();
      await expect
        .poll(() => p.getByTestId('signin-runtime').innerText())
        .toContain(az['runtime.production']);
      await p.getByTestId('otp-signin').waitFor();
      expect(await p.getByTestId('token-signin').count()).toBe(0);
      expect(await p.getByTestId('token-input').count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  it('[browser] [pglite] sign-in: "send code" is disabled with the reason when no code can be sent, enabled when one can', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 800 } });
    watch(ctx);
    try {
      const p = await ctx.newPage();
      await p.goto(base);
      await p.getByTestId('otp-send').waitFor();
      // This service has QA test numbers: a code can be sent.
      expect(await p.getByTestId('otp-send').isDisabled()).toBe(false);
      expect(await p.getByTestId('otp-not-configured').count()).toBe(0);
      for (const missing of ['provider', 'provider_env'] as const) {
        await p.unroute('**/api/v1/auth/config');
        await p.route('**/api/v1/auth/config', async (route) => {
          const res = await route.fetch();
          const body = (await res.json()) as { otpReady: boolean; otpMissing: string | null };
          expect(body).toMatchObject({ otpReady: true, otpMissing: null });
          await route.fulfill({ response: res, json: { ...body, otpReady: false, otpMissing: missing } });
        });
        await p.reload();
        const notice = p.getByTestId('otp-not-configured');
        await notice.waitFor();
        expect(await notice.getAttribute('data-missing')).toBe(missing);
        expect(await notice.innerText()).toBe(
          az[missing === 'provider' ? 'signin.otpNotConfigured' : 'signin.otpEnvIncomplete'],
        );
        const send = p.getByTestId('otp-send');
        expect(await send.isDisabled()).toBe(true);
        // The button says why, for screen readers too.
        expect(await send.getAttribute('aria-describedby')).toBe(await notice.getAttribute('id'));
        mkdirSync(ARTIFACTS, { recursive: true });
        await p.screenshot({ path: join(ARTIFACTS, `signin-otp-${missing}-390.png`), fullPage: true });
      }
    } finally {
      await ctx.close();
    }
  });

  it('[browser] [pglite] the four demo items show the statuses the pipeline gave them, with masked targets', async () => {
    const list = page.getByTestId('outbox-list');
    await expect.poll(() => list.locator('[data-testid^="outbox-item-"]').count()).toBe(4);
    const expected: [string, string, string, string][] = [
      // title, channel, status, masked target as the list shows it
      [SEED.kitchenTitle, 'in_app', 'sent', 'pos-desktop-01'],
      [SEED.otpTitle, 'otp_sms', 'blocked', '+994 ••• ••• 00'],
      [SEED.supportTitle, 'whatsapp', 'queued', '+994 ••• ••• 01'],
      [SEED.reportTitle, 'email', 'ready', 'o•••@example.local'],
    ];
    for (const [title, channel, status, target] of expected) {
      const card = item(title);
      expect(await card.getAttribute('data-channel'), title).toBe(channel);
      expect(await card.getAttribute('data-status'), title).toBe(status);
      // The badge says it in words, in the page's language.
      expect(await card.locator('.badge').first().innerText(), title).toBe(
        az[`status.${status}` as keyof typeof az],
      );
      expect(await card.getByTestId('item-target').innerText(), title).toBe(target);
      // And the page shows what the server holds, not a copy of the seed page.
      expect((await outboxByTitle(title)).status).toBe(status);
    }
    // The seed page said "Mock sent" for the LAN ticket; the real LAN lifecycle is sent (handed to
    // the hub), then delivered once the device acknowledges. No device is connected yet.
    expect(await item(SEED.kitchenTitle).getByTestId('item-reason').textContent()).toContain(
      'handed to the LAN hub',
    );
    // In Azerbaijani the reason is translated, the server wording kept after it.
    expect(await item(SEED.kitchenTitle).getByTestId('translated').innerText()).toBe(az['reason.lanHanded']);
    expect(await item(SEED.kitchenTitle).getByTestId('item-offline-safe').getAttribute('data-value')).toBe(
      'true',
    );
    expect(await item(SEED.otpTitle).getByTestId('item-reason').textContent()).toContain(
      'OTP is never queued',
    );
    expect(await item(SEED.supportTitle).getByTestId('item-reason').textContent()).toContain(
      'tenant opt-in for whatsapp',
    );
    // Sources are named in the page's language; the id stays in an attribute.
    expect(await item(SEED.kitchenTitle).getByTestId('item-source').innerText()).toBe(
      az['source.kitchen_desktop'],
    );
    expect(await item(SEED.kitchenTitle).getByTestId('item-source').getAttribute('data-source')).toBe(
      'kitchen_desktop',
    );
    expect(await item(SEED.otpTitle).getByTestId('item-source').innerText()).toBe(az['source.owner_panel']);
    // A reason is shown once, translated; the server's wording waits behind a closed details.
    const kitchenReason = item(SEED.kitchenTitle).getByTestId('item-reason');
    expect(await kitchenReason.locator('details').getAttribute('open')).toBeNull();
    expect(await kitchenReason.innerText()).not.toContain('handed to the LAN hub');
    await kitchenReason.locator('summary').click();
    expect(await kitchenReason.getByTestId('server-text').innerText()).toContain('handed to the LAN hub');
    await kitchenReason.locator('summary').click();
    // The sample items speak the tenant's language: no English amount beside "1.845,50 ₼".
    const report = await outboxByTitle(SEED.reportTitle);
    const reportFull = await api<{ body: string; locale?: string }>('GET', `/api/v1/outbox/${report.id}`);
    expect(reportFull.body.replace(/[\u00a0\u202f]/g, ' ')).toContain('1.845,50 ₼');
    expect(reportFull.body).not.toContain('AZN');
    // Full targets never reach the list.
    const listText = await list.innerText();
    expect(listText).not.toContain('+994500000001');
    expect(listText).not.toContain('owner@example.local');
  });

  it('[browser] [pglite] readiness: 5 providers, 4 outbox items, 4 env-required, 1 LAN-safe, 5 dry-run adapters; all eight flags true', async () => {
    const counts = {
      providers: 5,
      outboxItems: 4,
      envRequiredProviders: 4,
      lanSafeItems: 1,
      dryRunAdapters: 5,
    };
    for (const [key, value] of Object.entries(counts)) {
      const el = page.getByTestId(`count-${key}`);
      expect(await el.getAttribute('data-value'), key).toBe(String(value));
      expect(await el.innerText(), key).toContain(String(value));
    }
    const server = await api<{ summary: Record<string, number>; flags: Record<string, boolean> }>(
      'GET',
      '/api/v1/readiness',
    );
    expect(server.summary).toEqual(counts);
    const flags = page.locator('[data-testid^="flag-"]');
    expect(await flags.count()).toBe(8);
    for (const key of Object.keys(server.flags)) {
      expect(await page.getByTestId(`flag-${key}`).getAttribute('data-value'), key).toBe('true');
    }
    expect(Object.keys(server.flags).sort()).toEqual([
      'cashierApprovalUntouched',
      'envValuesRedacted',
      'externalSendsDisabled',
      'otpOnlineOnly',
      'outboxAuditRequired',
      'posLanProtected',
      'providerAdaptersDryRun',
      'secretsNeverReturned',
    ]);
    // Contracts: the env-required count is the number of cards that say so.
    expect(await page.locator('[data-testid^="contract-"][data-status="env_required"]').count()).toBe(4);
    expect(await page.getByTestId('contract-in_app').getAttribute('data-status')).toBe('lan_ready');
    // Env names are listed as configured or missing, never with a value (TWILIO_AUTH_TOKEN is set to a canary).
    const twilio = page.getByTestId('contract-otp_sms');
    expect(await twilio.getByTestId('env-TWILIO_AUTH_TOKEN').getAttribute('data-configured')).toBe('true');
    expect(await twilio.getByTestId('env-OTP_PROVIDER').getAttribute('data-configured')).toBe('false');
    expect(await page.locator('[data-testid^="adapter-"][data-mode="dry_run"]').count()).toBe(5);
    checkForCanaries('page html', await page.content());
  });

  it('[browser] [pglite] contracts and adapters: English shows the API wording; az translates it; every env name, endpoint and webhook as the API lists them', async () => {
    type Env = { name: string; configured: boolean; optional?: true };
    const r = await api<{
      contracts: { id: string; name: string; provider: string; note: string; env: Env[] }[];
      adapters: {
        id: string;
        name: string;
        provider: string;
        note: string;
        mode: string;
        endpoint: string;
        webhook: string;
        env: Env[];
      }[];
    }>('GET', '/api/v1/readiness');
    expect(r.contracts.map((c) => c.id)).toEqual(['otp_sms', 'whatsapp', 'telegram', 'email', 'in_app']);
    const envShown = (card: Locator) =>
      card.locator('[data-testid^="env-"]').evaluateAll((els) =>
        els.map((e) => ({
          name: e.getAttribute('data-testid')!.slice(4),
          configured: e.getAttribute('data-configured') === 'true',
          ...(e.getAttribute('data-optional') === 'true' ? { optional: true } : {}),
          text: e.querySelector('code')?.textContent,
        })),
      );
    const wording = async (card: Locator, kind: 'contract' | 'adapter') => ({
      name: await card.getByTestId(`${kind}-name`).innerText(),
      provider: await card.getByTestId(`${kind}-provider`).innerText(),
      note: await card.getByTestId(`${kind}-note`).innerText(),
    });

    // Azerbaijani (the page's language now): the translations, by id.
    for (const c of r.contracts) {
      expect(await wording(page.getByTestId(`contract-${c.id}`), 'contract'), c.id).toEqual(
        CONTRACT_TRANSLATIONS.az[c.id],
      );
    }
    for (const a of r.adapters) {
      expect(await wording(page.getByTestId(`adapter-${a.id}`), 'adapter'), a.id).toEqual(
        ADAPTER_TRANSLATIONS.az[a.id],
      );
    }

    await page.getByTestId('lang-en').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(en['app.title']);
    try {
      for (const c of r.contracts) {
        const card = page.getByTestId(`contract-${c.id}`);
        expect(await wording(card, 'contract'), c.id).toEqual({
          name: c.name,
          provider: c.provider,
          note: c.note,
        });
        // Every env name of all five contracts, each configured or missing as the API says.
        expect(await envShown(card), c.id).toEqual(c.env.map((e) => ({ ...e, text: e.name })));
        if (c.env.length === 0) expect(await card.innerText()).toContain(en['env.none']);
        for (const e of c.env) {
          expect(await card.getByTestId(`env-${e.name}`).innerText(), `${c.id} ${e.name}`).toContain(
            e.configured ? en['env.configured'] : e.optional ? en['env.optional'] : en['env.missing'],
          );
        }
      }
      const dryRun = r.adapters.filter((a) => a.mode === 'dry_run');
      expect(dryRun.map((a) => a.id)).toEqual([
        'twilio_verify',
        'firebase_auth',
        'whatsapp_cloud',
        'telegram_bot',
        'smtp',
      ]);
      for (const a of r.adapters) {
        const card = page.getByTestId(`adapter-${a.id}`);
        expect(await card.getAttribute('data-mode'), a.id).toBe(a.mode);
        expect(await wording(card, 'adapter'), a.id).toEqual({
          name: a.name,
          provider: a.provider,
          note: a.note,
        });
        expect(await card.getByTestId('adapter-endpoint').innerText(), a.id).toBe(a.endpoint);
        expect(await card.getByTestId('adapter-webhook').innerText(), a.id).toBe(a.webhook);
        expect(await envShown(card), a.id).toEqual(a.env.map((e) => ({ ...e, text: e.name })));
      }
    } finally {
      await page.getByTestId('lang-az').click();
      await expect.poll(() => page.locator('h1').innerText()).toBe(az['app.title']);
    }
  });

  it('[browser] [pglite] full-page screenshots at 1440 and 390 px', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // English for the committed pair, like the seed page; the page keeps that choice per browser.
    await page.getByTestId('lang-en').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(en['app.title']);
    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await expect.poll(async () => (await horizontalOverflow(page)).overflow).toBeLessThanOrEqual(0);
      const file = join(ARTIFACTS, `panel-${width}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
      // Committed copies change only on request (their timestamps differ on every run).
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(SCREENSHOTS, { recursive: true });
        copyFileSync(file, join(SCREENSHOTS, `panel-${width}.png`));
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByTestId('lang-az').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(az['app.title']);
  });

  it('[browser] [pglite] the manat sign renders with the shipped Noto Sans subset (served by the service, not the device)', async () => {
    const served = page.waitForResponse((r) =>
      /\/assets\/noto-sans-latin-ext-400-normal-[^/]+\.woff2$/.test(r.url()),
    );
    const faces = await page.evaluate(async () => {
      const loaded = await document.fonts.load('400 40px "Noto Sans"', '\u20bc');
      const canvas = document.createElement('canvas').getContext('2d')!;
      canvas.font = '400 40px "Noto Sans"';
      const manat = canvas.measureText('\u20bc');
      return {
        loaded: loaded.map((f) => ({ family: f.family, status: f.status, range: f.unicodeRange })),
        check: document.fonts.check('400 40px "Noto Sans"', '\u20bc'),
        width: manat.width,
        ink: manat.actualBoundingBoxAscent + manat.actualBoundingBoxDescent,
      };
    });
    const res = await served;
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('font/woff2');
    expect(
      faces.loaded.some(
        (f) =>
          f.family.replace(/"/g, '') === 'Noto Sans' &&
          f.status === 'loaded' &&
          f.range.includes('U+20AD-20C0'),
      ),
    ).toBe(true);
    expect(faces.check).toBe(true);
    // The glyph has ink (an empty box or a blank would not reach this height at 40 px).
    expect(faces.width).toBeGreaterThan(10);
    expect(faces.ink).toBeGreaterThan(20);
  });

  it('[browser] [pglite] screenshots at 1024x600 and 390 px in az, ru and en; the 390 px page stays short', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const heights: Record<string, number> = {};
    for (const lang of ['az', 'ru', 'en'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
      for (const [width, height] of [
        [1024, 600],
        [390, 844],
      ] as const) {
        await page.setViewportSize({ width, height });
        await expect.poll(async () => (await horizontalOverflow(page)).overflow).toBeLessThanOrEqual(0);
        await page.screenshot({
          path: join(ARTIFACTS, `panel-${lang}-${width}.png`),
          fullPage: true,
          animations: 'disabled',
        });
        heights[`${lang}-${width}`] = await page.evaluate(() => document.documentElement.scrollHeight);
      }
    }
    // Before: every translated reason was followed by the server's wording. Opening every details
    // element lays the page out that way again, on the same data, for the before/after measure.
    await page.getByTestId('lang-az').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(az['app.title']);
    await page.setViewportSize({ width: 390, height: 844 });
    const reasons = page.locator('[data-testid="item-reason"]');
    for (let n = 0; n < (await reasons.count()); n++) {
      const r = reasons.nth(n);
      const server = await r.getByTestId('server-text').textContent();
      // Shown once: the rendered text is the translation alone.
      if (server) expect(await r.innerText()).not.toContain(server);
    }
    const afterHeight = await page.evaluate(() => document.documentElement.scrollHeight);
    const beforeHeight = await page.evaluate(() => {
      const closed = [...document.querySelectorAll('details.server-text:not([open])')];
      for (const d of closed) d.setAttribute('open', '');
      const h = document.documentElement.scrollHeight;
      for (const d of closed) d.removeAttribute('open');
      return h;
    });
    heights['az-390-before'] = beforeHeight;
    heights['az-390-after'] = afterHeight;
    writeFileSync(join(ARTIFACTS, 'panel-heights.json'), JSON.stringify(heights, null, 2));
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(afterHeight).toBeLessThan(beforeHeight);
  });

  it('[browser] [pglite] the drawer shows an item in full: target, audit trail as the server records it; Escape closes it', async () => {
    const kitchen = await outboxByTitle(SEED.kitchenTitle);
    await page.getByTestId(`outbox-open-${kitchen.id}`).click();
    const drawer = page.getByTestId('audit-drawer');
    await drawer.getByTestId('drawer-item').waitFor();
    expect(await drawer.getByTestId('drawer-item').getAttribute('data-id')).toBe(kitchen.id);
    expect(await drawer.getByTestId('fact-target').innerText()).toBe('pos-desktop-01');
    const { events } = await api<{ events: { action: string; to: string | null }[] }>(
      'GET',
      `/api/v1/outbox/${kitchen.id}/audit`,
    );
    expect(events.map((e) => `${e.action}:${e.to}`)).toEqual([
      'created:ready',
      'claimed:sending',
      'attempt:sent',
    ]);
    const shown = drawer.getByTestId('audit-event');
    await expect.poll(() => shown.count()).toBe(events.length);
    for (let n = 0; n < events.length; n++) {
      expect(await shown.nth(n).getAttribute('data-action')).toBe(events[n]!.action);
      expect(await shown.nth(n).getAttribute('data-to')).toBe(events[n]!.to ?? '');
    }
    expect(await drawer.getByTestId('attempt-1').getAttribute('data-outcome')).toBe('sent');
    // Focus moved into the dialog; Escape closes it and gives focus back to the opener.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(
      'drawer-close',
    );
    await page.keyboard.press('Escape');
    await expect.poll(() => drawer.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(
      `outbox-open-${kitchen.id}`,
    );

    // A phone number: masked in the list, in full here.
    const domain = await outboxByTitle(SEED.supportTitle);
    await page.getByTestId(`outbox-open-${domain.id}`).click();
    await drawer.getByTestId('drawer-item').waitFor();
    expect(await drawer.getByTestId('fact-target').innerText()).toBe('+994500000001');
    expect(await drawer.getByTestId('attempts').innerText()).toContain(az['attempts.empty']);
    await drawer.getByTestId('drawer-close').click();
    await expect.poll(() => drawer.count()).toBe(0);

    // The email report: full address here, its body rendered by the server, due at 21:00 Baku time.
    const report = await outboxByTitle(SEED.reportTitle);
    const full = await api<{ body: string; sendAt: string }>('GET', `/api/v1/outbox/${report.id}`);
    await page.getByTestId(`outbox-open-${report.id}`).click();
    await drawer.getByTestId('drawer-item').waitFor();
    expect(await drawer.getByTestId('fact-target').innerText()).toBe('owner@example.local');
    expect(await drawer.getByTestId('fact-body').innerText()).toBe(full.body);
    // Rendered in the tenant's language (az), amount included.
    expect(full.body).toMatch(/gəlir 1\.845,50\s₼/);
    expect(await drawer.getByTestId('fact-send-at').innerText()).toContain('21:00:00');
    await drawer.getByTestId('drawer-close').click();
    await expect.poll(() => drawer.count()).toBe(0);
  });

  it('[browser] [pglite] WhatsApp opt-in: "go back" changes nothing; confirming moves the queued Domain setup item to mock_sent live, with its rendered request in the drawer', async () => {
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const policyEvents = async () =>
      (
        await app.db.query<{ action: string; entity_id: string; actor: string }>(
          `SELECT action, entity_id, actor FROM audit_events WHERE tenant_id = 'demo' AND entity = 'policy' ORDER BY id`,
        )
      ).rows;
    const eventsBefore = (await policyEvents()).length;
    const toggle = page.getByTestId('optin-whatsapp');
    expect(await toggle.isChecked()).toBe(false);
    const dialog = page.getByTestId('confirm-dialog');

    await toggle.click({ force: true });
    await dialog.waitFor();
    await dialog.getByTestId('confirm-cancel').click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await toggle.isChecked()).toBe(false);
    expect(
      (await api<{ optIns: Record<string, boolean> }>('GET', '/api/v1/tenant/policy')).optIns.whatsapp,
    ).toBe(false);
    expect((await policyEvents()).length).toBe(eventsBefore);

    await toggle.click({ force: true });
    await dialog.waitFor();
    await dialog.getByTestId('confirm-ok').click();
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => toggle.isChecked()).toBe(true);
    expect(
      (await api<{ optIns: Record<string, boolean> }>('GET', '/api/v1/tenant/policy')).optIns.whatsapp,
    ).toBe(true);
    // Audited: one opt_in event for whatsapp, by the owner's token.
    const added = (await policyEvents()).slice(eventsBefore);
    expect(added.map((e) => `${e.action}:${e.entity_id}`)).toEqual(['opt_in:whatsapp']);
    expect(added[0]!.actor).toContain('demo-owner');

    const card = item(SEED.supportTitle);
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('mock_sent');
    expect(await card.locator('.badge').first().innerText()).toBe(az['status.mock_sent']);
    expect(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    // The opt-in change is audited on the tenant; the item's own trail shows the re-evaluation and the dry-run.
    const domain = await outboxByTitle(SEED.supportTitle);
    expect(domain.status).toBe('mock_sent');

    await page.getByTestId(`outbox-open-${domain.id}`).click();
    const drawer = page.getByTestId('audit-drawer');
    await drawer.getByTestId('attempt-1').waitFor();
    expect(await drawer.getByTestId('attempt-1').getAttribute('data-outcome')).toBe('mock_sent');
    const request = await drawer.getByTestId('attempt-request-1').innerText();
    expect(request).toContain('graph.facebook.com');
    expect(request).toContain('+994500000001'.slice(1));
    expect(request).toContain(SEED.supportBody);
    checkForCanaries('rendered request', request);
    const actions = await drawer
      .getByTestId('audit-event')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-action')}:${e.getAttribute('data-to')}`));
    expect(actions[0]).toBe('created:queued');
    expect(actions.at(-1)).toBe('attempt:mock_sent');
    await drawer.getByTestId('drawer-close').click();
  });

  it('[browser] [pglite] the POS device connects: the seed Kitchen ticket goes from sent to delivered on the page when it acks', async () => {
    // The demo POS's token is minted at seed time and never shown: rotate it, as an owner would.
    const { token } = await api<{ token: string }>('POST', '/api/v1/lan/devices/pos-desktop-01/token');
    const pos = await TestDevice.connect(base, token);
    devices.push(pos);
    const kitchen = await outboxByTitle(SEED.kitchenTitle);
    const got = await waitFor(async () => pos.got.find((n) => n.id === kitchen.id));
    expect(got.title).toBe(SEED.kitchenTitle);
    expect(await item(SEED.kitchenTitle).getAttribute('data-status')).toBe('sent');
    pos.ack(got.seq);
    await expect
      .poll(() => item(SEED.kitchenTitle).getAttribute('data-status'), { timeout: 10_000 })
      .toBe('delivered');
  });

  it('[browser] [pglite] a device registered in the panel receives a test in_app message sent from the panel; the item goes sent → delivered live', async () => {
    const form = page.getByTestId('device-form');
    await form.getByTestId('device-id').fill('bar-tablet-01');
    await form.getByTestId('device-role').selectOption('waiter');
    await form.getByTestId('device-name').fill('Bar tablet');
    await form.getByTestId('device-register').click();
    const token = (await page.getByTestId('device-token').innerText()).trim();
    expect(token.length).toBeGreaterThanOrEqual(16);
    await page.getByTestId('device-token-done').click();
    await expect.poll(() => page.getByTestId('device-token').count()).toBe(0);
    await page.getByTestId('device-bar-tablet-01').waitFor();

    tabletToken = token;
    tablet = await TestDevice.connect(base, token);
    devices.push(tablet);
    expect((await tablet.hello).device).toBe('bar-tablet-01');
    await page.getByTestId('devices-refresh').click();
    await expect
      .poll(() => page.getByTestId('device-bar-tablet-01').getAttribute('data-connected'))
      .toBe('true');

    const send = page.getByTestId('send-test-form');
    await send.getByTestId('send-channel').selectOption('in_app');
    await send.getByTestId('send-target').fill('bar-tablet-01');
    await send.getByTestId('send-title').fill('Table 4 asks for the bill');
    await send.getByTestId('send-body').fill('Test from the owner panel: table 4, bill please.');
    await send.getByTestId('send-submit').click();
    const result = page.getByTestId('send-result');
    await result.waitFor();
    const id = (await result.getAttribute('data-id'))!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const got = await waitFor(async () => tablet!.got.find((n) => n.id === id));
    expect(got).toMatchObject({
      title: 'Table 4 asks for the bill',
      body: 'Test from the owner panel: table 4, bill please.',
      source: 'owner_panel',
      target: 'bar-tablet-01',
    });
    const card = page.getByTestId(`outbox-item-${id}`);
    // Not acknowledged yet: handed to the hub, on the page without a reload.
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('sent');
    tablet!.ack(got.seq);
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('delivered');
    expect(await card.locator('.badge').first().innerText()).toBe(az['status.delivered']);
    expect((await api<{ status: string }>('GET', `/api/v1/outbox/${id}`)).status).toBe('delivered');
  });

  it("[browser] [pglite] the test-send form offers the server's template catalogue: titles in the page language, data prefilled from the example; a template send is rendered by the server", async () => {
    const { templates } = await api<{
      templates: {
        id: string;
        channels: string[];
        example: {
          data: Record<string, unknown>;
          rendered: Record<'az' | 'ru' | 'en', { title: string; body: string }>;
        };
      }[];
    }>('GET', '/api/v1/templates');
    const send = page.getByTestId('send-test-form');
    await send.getByTestId('send-channel').selectOption('in_app');
    const choice = send.getByTestId('send-template');
    await choice.waitFor();
    const options = await choice
      .locator('option')
      .evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    const forInApp = templates.filter((x) => x.channels.includes('in_app'));
    expect(forInApp.length).toBeGreaterThanOrEqual(3);
    expect(options.map(([v]) => v)).toEqual(['', ...forInApp.map((x) => x.id)]);
    expect(options[0]![1]).toBe(az['send.ownText']);
    for (const [i, x] of forInApp.entries())
      expect(options[i + 1]![1]).toBe(
        az['send.templateOption'].replace('{title}', x.example.rendered.az.title).replace('{id}', x.id),
      );
    // OTP texts are the provider's: no templates offered there.
    await send.getByTestId('send-channel').selectOption('otp_sms');
    await expect.poll(() => choice.count()).toBe(0);
    await send.getByTestId('send-channel').selectOption('in_app');

    await choice.selectOption('kitchen_ticket_ready');
    // The template brings its own title and text.
    expect(await send.getByTestId('send-body').count()).toBe(0);
    expect(await send.getByTestId('send-title').count()).toBe(0);
    expect(await send.getByTestId('send-data-ticket').inputValue()).toBe('A-17');
    expect(await send.getByTestId('send-data-table').inputValue()).toBe('4');
    await send.getByTestId('send-data-ticket').fill('B-12');
    await send.getByTestId('send-target').fill('bar-tablet-01');
    // Eyes-only pictures of the form in each language and width (test-artifacts/, not committed).
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const lang of ['az', 'ru', 'en'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      await expect.poll(() => page.locator('h1').innerText()).toBe(DICT[lang]['app.title']);
      for (const [width, height] of [
        [1024, 600],
        [390, 844],
      ] as const) {
        await page.setViewportSize({ width, height });
        await send.scrollIntoViewIfNeeded();
        expect((await horizontalOverflow(page)).overflow).toBeLessThanOrEqual(0);
        await send.screenshot({
          path: join(ARTIFACTS, `send-template-${lang}-${width}.png`),
          animations: 'disabled',
        });
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByTestId('lang-az').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(az['app.title']);

    const result = page.getByTestId('send-result');
    const previous = (await result.count()) > 0 ? await result.getAttribute('data-id') : null;
    await send.getByTestId('send-submit').click();
    await expect
      .poll(async () => ((await result.count()) > 0 ? result.getAttribute('data-id') : null))
      .not.toBe(previous);
    const id = (await result.getAttribute('data-id'))!;
    const item = await api<{ template: string; body: string; data: Record<string, unknown> }>(
      'GET',
      `/api/v1/outbox/${id}`,
    );
    expect(item.template).toBe('kitchen_ticket_ready');
    expect(item.data).toEqual({ ticket: 'B-12', table: '4' });
    expect(item.body).toBe('Sifariş B-12 hazırdır, masa 4.');
    const got = await waitFor(async () => tablet!.got.find((n) => n.id === id));
    expect(got.body).toBe(item.body);
    tablet!.ack(got.seq);
    await expect
      .poll(async () => (await api<{ status: string }>('GET', `/api/v1/outbox/${id}`)).status, {
        timeout: 10_000,
      })
      .toBe('delivered');
    await choice.selectOption('');
    await expect.poll(() => send.getByTestId('send-body').count()).toBe(1);
  });

  it('[browser] [pglite] retry and cancel from the drawer: a blocked OTP stays blocked with the reason shown; the scheduled report is cancelled after a confirmation; the status filter finds it', async () => {
    const drawer = page.getByTestId('audit-drawer');
    const otp = await outboxByTitle(SEED.otpTitle);
    await page.getByTestId(`outbox-open-${otp.id}`).click();
    await drawer.getByTestId('drawer-item').waitFor();
    await drawer.getByTestId('item-retry').click();
    // The server refuses (409 invalid_transition) and says why; nothing changed.
    expect(await drawer.getByTestId('item-action-error').textContent()).toContain('OTP is never queued');
    expect(await drawer.getByTestId('drawer-item').getAttribute('data-status')).toBe('blocked');
    expect((await outboxByTitle(SEED.otpTitle)).status).toBe('blocked');
    await drawer.getByTestId('drawer-close').click();
    await expect.poll(() => drawer.count()).toBe(0);

    const report = await outboxByTitle(SEED.reportTitle);
    await page.getByTestId(`outbox-open-${report.id}`).click();
    await drawer.getByTestId('drawer-item').waitFor();
    await drawer.getByTestId('item-cancel').click();
    const confirm = page.getByTestId('confirm-dialog');
    await confirm.waitFor();
    await confirm.getByTestId('confirm-ok').click();
    await expect.poll(() => confirm.count()).toBe(0);
    await expect.poll(() => drawer.getByTestId('drawer-item').getAttribute('data-status')).toBe('cancelled');
    const last = drawer.getByTestId('audit-event').last();
    expect(await last.getAttribute('data-to')).toBe('cancelled');
    expect(await last.innerText()).toContain('demo-owner');
    expect(await drawer.getByTestId('item-cancel').isDisabled()).toBe(true);
    await drawer.getByTestId('drawer-close').click();
    await expect.poll(() => item(SEED.reportTitle).getAttribute('data-status')).toBe('cancelled');
    expect((await outboxByTitle(SEED.reportTitle)).status).toBe('cancelled');

    await page.getByTestId('outbox-filter-status').selectOption('cancelled');
    await expect
      .poll(() =>
        page
          .locator('[data-testid^="outbox-item-"]')
          .evaluateAll((els) => els.map((e) => e.querySelector('h3')?.textContent)),
      )
      .toEqual([SEED.reportTitle]);
    await page.getByTestId('outbox-filter-status').selectOption('');
    // Every item again, as many as the API lists (the earlier tests' sends included).
    const all = (await api<{ items: unknown[] }>('GET', '/api/v1/outbox?limit=200')).items.length;
    expect(all).toBeGreaterThanOrEqual(5);
    await expect.poll(() => page.locator('[data-testid^="outbox-item-"]').count()).toBe(all);
  });

  it('[browser] [pglite] "Create Telegram link" shows the single-use t.me link and token the server made', async () => {
    const answer = page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/telegram/links') && r.request().method() === 'POST',
    );
    await page.getByTestId('telegram-link-create').click();
    const res = await answer;
    expect(res.status()).toBe(201);
    const link = (await res.json()) as { token: string; url: string; expiresAt: string };
    await page.getByTestId('telegram-link').waitFor();
    expect(link.url).toBe(`https://t.me/mupza_demo_bot?start=${link.token}`);
    expect(await page.getByTestId('telegram-link-url').getAttribute('href')).toBe(link.url);
    expect(await page.getByTestId('telegram-link-token').innerText()).toBe(link.token);
    const minutes = (Date.parse(link.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(10);
    expect(minutes).toBeLessThanOrEqual(15);
    expect(await page.getByTestId('telegram-link-expires').innerText()).toMatch(/\d{2}:\d{2}/);
  });

  it('[browser] [pglite] language: az → ru → en changes the visible strings, the title and <html lang>', async () => {
    const queuedOrSent = item(SEED.otpTitle).locator('.badge').first();
    const created = item(SEED.otpTitle).locator('time');
    const iso = (await created.getAttribute('datetime'))!;
    // Dates are shown in the tenant's time zone (Asia/Baku, UTC+4, no DST).
    const bakuClock = new Date(Date.parse(iso) + 4 * 3_600_000).toISOString().slice(11, 19);
    const dates: Record<string, string> = {};
    const drawer = page.getByTestId('audit-drawer');
    const otp = await outboxByTitle(SEED.otpTitle);
    const otpReason = (await api<{ reason: string }>('GET', `/api/v1/outbox/${otp.id}`)).reason;
    // The item view carries the template data; the revenue there is what the page formats.
    const report = await outboxByTitle(SEED.reportTitle);
    const reportFull = await api<{ template: string; data: { revenue: number } }>(
      'GET',
      `/api/v1/outbox/${report.id}`,
    );
    expect(reportFull.template).toBe('daily_owner_report');
    expect(reportFull.data.revenue).toBe(1845.5);
    expect(report).not.toHaveProperty('data');
    // az: CLDR's "1.845,50 ₼" (built by hand where the browser has no az data); ru "1 845,50 ₼"; en "AZN 1,845.50".
    const amounts = { az: '1.845,50 ₼', ru: '1 845,50 ₼', en: 'AZN 1,845.50' };
    const spaces = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
    for (const lang of ['ru', 'en', 'az'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
      const d = DICT[lang];
      expect(await page.locator('h1').innerText()).toBe(d['app.title']);
      expect(await page.getByTestId('optins').locator('h2').innerText()).toBe(d['optins.heading']);
      expect(await page.getByTestId('count-providers').innerText()).toContain(d['count.providers']);
      expect(await page.getByTestId('flag-otpOnlineOnly').innerText()).toContain(d['flag.otpOnlineOnly']);
      expect(await queuedOrSent.innerText()).toBe(d['status.blocked']);
      expect(await page.getByTestId(`lang-${lang}`).getAttribute('aria-pressed')).toBe('true');
      expect(await page.title()).toContain(d['app.title']);
      dates[lang] = await created.innerText();
      expect(dates[lang], lang).toContain(bakuClock);

      // A reason from the server: translated in az/ru with the server wording kept; as sent in en.
      const reason = item(SEED.otpTitle).getByTestId('item-reason');
      if (lang === 'en') {
        // The whole text: the visually hidden "Reason:" label, then the server's sentence as sent.
        expect((await reason.innerText()).replace(/\s+/g, ' ')).toBe(`${en['outbox.reason']}: ${otpReason}`);
        expect(await reason.getByTestId('translated').count()).toBe(0);
      } else {
        const translated = translateReason(lang, otpReason);
        expect(translated, lang).toBeTruthy();
        expect(await reason.getByTestId('translated').innerText()).toBe(translated);
        expect(await reason.getByTestId('server-text').textContent()).toContain(otpReason);
      }

      // An action error: translated by its code (invalid_transition), the server message kept.
      await page.getByTestId(`outbox-open-${otp.id}`).click();
      await drawer.getByTestId('drawer-item').waitFor();
      const answer = page.waitForResponse((r) => r.url().endsWith(`/outbox/${otp.id}/retry`));
      await drawer.getByTestId('item-retry').click();
      const refused = (await (await answer).json()) as { error: string; message: string };
      expect(refused.error).toBe('invalid_transition');
      const error = drawer.getByTestId('item-action-error');
      await error.waitFor();
      expect(await error.getAttribute('data-code')).toBe('invalid_transition');
      if (lang === 'en') expect(await error.innerText()).toBe(refused.message);
      else {
        expect(await error.getByTestId('translated').innerText()).toBe(d['error.invalid_transition']);
        expect(await error.getByTestId('server-text').textContent()).toContain(refused.message);
      }
      await drawer.getByTestId('drawer-close').click();
      await expect.poll(() => drawer.count()).toBe(0);

      // The report's revenue in the tenant currency, formatted for the language.
      await page.getByTestId(`outbox-open-${report.id}`).click();
      await drawer.getByTestId('drawer-item').waitFor();
      expect(spaces(await drawer.getByTestId('fact-revenue').innerText()), lang).toBe(amounts[lang]);
      await drawer.getByTestId('drawer-close').click();
      await expect.poll(() => drawer.count()).toBe(0);
    }
    // Each language writes the date its own way (az falls back to dd.MM.yyyy where ICU has no az data).
    expect(dates.az).toMatch(/^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}$/);
    expect(dates.en).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}$/);
    expect(dates.ru).not.toBe(dates.en);
    expect(new Set([az['app.title'], ru['app.title'], en['app.title']]).size).toBe(3);
  });

  it('[browser] [pglite] keyboard: Tab reaches the language switcher and the opt-in switches with a visible focus ring; Space asks first', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.locator('body').click({ position: { x: 2, y: 2 } });
    const reached: string[] = [];
    const seek = async (predicate: (testId: string | null) => boolean, max: number) => {
      for (let n = 0; n < max; n++) {
        await page.keyboard.press('Tab');
        const f = await probeFocus(page);
        if (f) reached.push(f.testId ?? '?');
        if (f && predicate(f.testId)) return f;
      }
      throw new Error(`not reached by Tab after ${max} presses; focus went through ${reached.join(' ')}`);
    };
    const lang = await seek((id) => id?.startsWith('lang-') ?? false, 20);
    expect(lang.focusVisible).toBe(true);
    expect(lang.outlineStyle).not.toBe('none');
    expect(lang.outlineWidth).toBeGreaterThanOrEqual(2);

    const optin = await seek((id) => id?.startsWith('optin-') ?? false, 80);
    expect(optin.focusVisible).toBe(true);
    expect(optin.outlineStyle).not.toBe('none');
    expect(optin.outlineWidth).toBeGreaterThanOrEqual(2);
    expect(optin.boxWidth).toBeGreaterThan(0);
    const channel = optin.testId!;
    const before = await page.getByTestId(channel).isChecked();
    await page.keyboard.press('Space');
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    // The safe choice has the focus; Escape backs out and focus returns to the switch.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(
      'confirm-cancel',
    );
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await page.getByTestId(channel).isChecked()).toBe(before);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(channel);
  });

  it('[browser] [pglite] no horizontal scroll at 360 and 1440 px, with and without the drawer open', async () => {
    const kitchen = await outboxByTitle(SEED.kitchenTitle);
    for (const width of [360, 1440]) {
      await page.setViewportSize({ width, height: 800 });
      await expect
        .poll(async () => horizontalOverflow(page), { message: `page at ${width}px` })
        .toMatchObject({ overflow: 0 });
      await page.getByTestId(`outbox-open-${kitchen.id}`).click();
      await page.getByTestId('drawer-item').waitFor();
      const drawerOverflow = await page
        .getByTestId('audit-drawer')
        .evaluate((d) => d.scrollWidth - d.clientWidth);
      expect(drawerOverflow, `drawer at ${width}px`).toBeLessThanOrEqual(0);
      expect(await horizontalOverflow(page)).toMatchObject({ overflow: 0 });
      await page.getByTestId('drawer-close').click();
    }
  });

  it('[browser] [pglite] axe-core finds no serious or critical violation on the dashboard or in the open drawer', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    const serious = (vs: Awaited<ReturnType<typeof axeScan>>) =>
      vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const dashboard = await axeScan(page);
    expect(serious(dashboard), JSON.stringify(serious(dashboard), null, 2)).toEqual([]);

    const domain = await outboxByTitle(SEED.supportTitle);
    await page.getByTestId(`outbox-open-${domain.id}`).click();
    await page.getByTestId('attempt-1').waitFor();
    const drawer = await axeScan(page);
    expect(serious(drawer), JSON.stringify(serious(drawer), null, 2)).toEqual([]);
    await page.getByTestId('drawer-close').click();
  });

  it('[browser] [pglite] an item enqueued through the API (not the panel) appears live; blocked for want of a device, a retry after the device is registered moves it on to sent', async () => {
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const queued = await api<{ id: string; status: string }>('POST', '/api/v1/outbox', {
      channel: 'in_app',
      target: 'patio-tablet-01',
      title: 'Patio table 2 asks for water',
      body: 'Table 2 on the patio asks for water.',
      source: 'pos_desktop',
    });
    const card = page.getByTestId(`outbox-item-${queued.id}`);
    // No reload, no click: the live stream brings it, then the dispatcher's verdict.
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('blocked');
    const blocked = await api<{ status: string; reason: string; lastErrorCode: string }>(
      'GET',
      `/api/v1/outbox/${queued.id}`,
    );
    expect(blocked).toMatchObject({ status: 'blocked', lastErrorCode: 'no_device' });
    expect(await card.getByTestId('item-reason').textContent()).toContain(blocked.reason);

    await api('POST', '/api/v1/lan/devices', { id: 'patio-tablet-01', role: 'waiter', name: 'Patio tablet' });
    await page.getByTestId(`outbox-open-${queued.id}`).click();
    const drawer = page.getByTestId('audit-drawer');
    await drawer.getByTestId('drawer-item').waitFor();
    await drawer.getByTestId('item-retry').click();
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('sent');
    await expect.poll(() => drawer.getByTestId('drawer-item').getAttribute('data-status')).toBe('sent');
    expect(await drawer.getByTestId('item-action-error').count()).toBe(0);
    const { events } = await api<{ events: { action: string; to: string | null }[] }>(
      'GET',
      `/api/v1/outbox/${queued.id}/audit`,
    );
    expect(events.map((e) => `${e.action}:${e.to}`).slice(-3)).toEqual([
      'retry:ready',
      'claimed:sending',
      'attempt:sent',
    ]);
    expect((await api<{ status: string }>('GET', `/api/v1/outbox/${queued.id}`)).status).toBe('sent');
    await drawer.getByTestId('drawer-close').click();
    expect(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
  });

  it('[browser] [pglite] revoking a device: confirm, it leaves the list, a revoked audit row is written, its socket is closed and its token refused', async () => {
    expect(tablet, 'the device registered earlier in the run').toBeTruthy();
    const row = page.getByTestId('device-bar-tablet-01');
    await row.waitFor();
    await page.getByTestId('device-revoke-bar-tablet-01').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('confirm-ok').click();
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => row.count()).toBe(0);
    const { devices: listed } = await api<{ devices: { id: string }[] }>('GET', '/api/v1/lan/devices');
    expect(listed.map((d) => d.id)).not.toContain('bar-tablet-01');
    // No API lists device audit events; the audit table is read the way the opt-in test reads it.
    const audit = await app.db.query<{ action: string; actor: string; to_status: string }>(
      `SELECT action, actor, to_status FROM audit_events WHERE tenant_id = 'demo' AND entity = 'device' AND entity_id = 'bar-tablet-01' AND action = 'revoked'`,
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]!.actor).toContain('demo-owner');
    // The open LAN socket is closed and the old token no longer connects.
    await expect.poll(() => tablet!.ws.readyState, { timeout: 10_000 }).toBe(WebSocket.CLOSED);
    await expect(TestDevice.connect(base, tabletToken)).rejects.toThrow();
  });

  it('[browser] [pglite] OTP sign-in at 390 px with the QA test number: a wrong code is refused, the right one signs in, sign-out ends the session', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    watch(ctx);
    try {
      const p = await ctx.newPage();
      await p.goto(base);
      await p.getByTestId('otp-signin').waitFor();
      await p.getByTestId('otp-phone').fill('+994 50 000 00 99');
      await p.getByTestId('otp-send').click();
      await p.getByTestId('otp-check-form').waitFor();
      await p.getByTestId('otp-code').fill('111111');
      await p.getByTestId('otp-verify').click();
      await p.getByTestId('otp-error').waitFor();
      expect(await p.getByTestId('header').count()).toBe(0);
      await p.getByTestId('otp-code').fill(OTP_CODE);
      await p.getByTestId('otp-verify').click();
      await p.getByTestId('header').waitFor();
      expect(await p.getByTestId('tenant').innerText()).toContain('MUPZA Demo Restaurant');
      expect((await horizontalOverflow(p)).overflow).toBeLessThanOrEqual(0);
      // A session of its own (not the bootstrap token), good for the API until sign-out.
      const session = await p.evaluate(() => sessionStorage.getItem('mupza.ownerToken'));
      expect(session).toBeTruthy();
      expect(session).not.toBe(TOKEN);
      expect((await app.as(session!, { method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
      await p.getByTestId('logout').click();
      await p.getByTestId('signin').waitFor();
      expect(await p.evaluate(() => sessionStorage.getItem('mupza.ownerToken'))).toBeNull();
      expect((await app.as(session!, { method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
    } finally {
      await ctx.close();
    }
    // No script errors anywhere in the run.
    expect(pageErrors).toEqual([]);
  });
});
