import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { providersModule } from '../../src/providers/module.ts';
import { createTwilioVerifyAdapter } from '../../src/providers/twilio-verify.ts';
import { createWhatsAppAdapter } from '../../src/providers/whatsapp-cloud.ts';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram-bot.ts';
import { startTwilioVerifyFake, type TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { startWhatsAppFake, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES, checkForCanaries } from '../helpers/canary.ts';
import { CLI_FROM_SOURCES } from '../helpers/child.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, testConfig, type TestApp } from '../helpers/runtime.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let fake: TelegramFake;
beforeAll(async () => {
  fake = await startTelegramFake({ token: CANARIES.TELEGRAM_BOT_TOKEN!, botUsername: 'mupzaos_owner_bot' });
});
afterAll(() => fake.close());

interface Readiness {
  adapters: { id: string; verification?: { at: string; ok: boolean; detail: string } }[];
}

for (const kind of await drivers()) {
  describe(`POST /api/v1/providers/:id/verify [${kind}]`, () => {
    let app: TestApp;
    let wrong: TestApp;
    let requestsBefore = 0;
    let rejectionsBefore = 0;
    beforeAll(async () => {
      requestsBefore = fake.requestCount;
      rejectionsBefore = fake.rejections.length;
      // QA runtime: the check is on demand only, never run at start.
      app = await createTestApp(kind, {
        env: { TELEGRAM_API_BASE_URL: fake.url },
        modules: [providersModule()],
      });
      wrong = await createTestApp(kind, {
        env: { TELEGRAM_API_BASE_URL: fake.url, TELEGRAM_BOT_TOKEN: '42:not-the-token' },
        modules: [providersModule()],
      });
    });
    afterAll(async () => {
      await app.close();
      await wrong.close();
    });
    const readiness = async (a: TestApp) =>
      (await a.as(a.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as Readiness;

    it('nothing is checked automatically: no call reached the provider and readiness shows no verification', async () => {
      expect(fake.requestCount).toBe(requestsBefore);
      expect(
        (await readiness(app)).adapters.find((a) => a.id === 'telegram_bot')!.verification,
      ).toBeUndefined();
    });

    it('Telegram getMe: verified; readiness then shows "verified at"', async () => {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/providers/telegram_bot/verify',
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { ok: boolean; at: string; detail: string; errorCode: string | null };
      expect(body).toMatchObject({
        adapter: 'telegram_bot',
        ok: true,
        detail: 'bot @mupzaos_owner_bot',
        errorCode: null,
      });
      expect(fake.requestCount).toBe(requestsBefore + 1);
      expect(fake.rejections).toHaveLength(rejectionsBefore);
      const v = (await readiness(app)).adapters.find((a) => a.id === 'telegram_bot')!.verification;
      expect(v).toEqual({ at: body.at, ok: true, detail: 'bot @mupzaos_owner_bot' });
    });

    it('a wrong token: 200 with ok=false and the classified error; readiness shows it', async () => {
      const res = await wrong.as(wrong.ownerToken, {
        method: 'POST',
        url: '/api/v1/providers/telegram_bot/verify',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ ok: false, errorCode: 'telegram_401' });
      const v = (await readiness(wrong)).adapters.find((a) => a.id === 'telegram_bot')!.verification!;
      expect(v.ok).toBe(false);
      expect(v.detail).toMatch(/^telegram_401: Unauthorized/);
    });

    it('unknown adapter 404, LAN hub 400, unconfigured provider 409, no token 401, a device-less tenant owner only', async () => {
      const post = (id: string, token: string | null = app.ownerToken) =>
        token
          ? app.as(token, { method: 'POST', url: `/api/v1/providers/${id}/verify` })
          : app.inject({ method: 'POST', url: `/api/v1/providers/${id}/verify` });
      expect((await post('fax_machine')).json()).toMatchObject({ error: 'not_found' });
      expect((await post('lan_hub')).json()).toMatchObject({ error: 'verify_not_supported' });
      const unconfigured = await post('whatsapp_cloud');
      expect(unconfigured.statusCode).toBe(409);
      expect(unconfigured.json()).toMatchObject({ error: 'provider_not_configured' });
      expect((await post('telegram_bot', null)).statusCode).toBe(401);
      expect((await post('x'.repeat(41))).json()).toMatchObject({ error: 'validation_failed' });
    });

    it('is documented in /openapi.json', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      const op = doc.paths['/api/v1/providers/{id}/verify']?.post;
      expect(op).toBeDefined();
      expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409']));
    });
  });
}

describe('mupza-comms providers verify <id>', () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [...CLI_FROM_SOURCES, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (out += b.toString()));
      p.on('close', (code) => resolve({ code, out }));
    });

  it('prints the result and exits 0 when verified, 1 when refused, 2 on usage errors; no secret printed', async () => {
    const ok = await run(['providers', 'verify', 'telegram_bot'], {
      TELEGRAM_BOT_TOKEN: CANARIES.TELEGRAM_BOT_TOKEN!,
      TELEGRAM_API_BASE_URL: fake.url,
    });
    const refused = await run(['providers', 'verify', 'telegram_bot', '--json'], {
      TELEGRAM_BOT_TOKEN: `${CANARIES.TELEGRAM_BOT_TOKEN}x`,
      TELEGRAM_API_BASE_URL: fake.url,
    });
    const usage = await run(['providers', 'verify'], {});
    checkForCanaries('cli output', ok.out + refused.out + usage.out);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out).toContain('telegram_bot: verified at');
    expect(ok.out).toContain('bot @mupzaos_owner_bot');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({
      adapter: 'telegram_bot',
      ok: false,
      errorCode: 'telegram_401',
    });
    expect(usage.code).toBe(2);
    // Three CLI processes, each loading the TypeScript sources through tsx: 8-10 s apiece on a busy 2-core box.
  }, 90_000);
});

describe('WhatsApp phone-number fetch and Twilio service fetch, against the spec-checking fakes', () => {
  const ACCOUNT = `AC${'e5'.repeat(16)}`;
  const SERVICE = `VA${'f6'.repeat(16)}`;
  const PHONE_ID = '106540352242922';
  let whatsappFake: WhatsAppFake;
  let twilioFake: TwilioVerifyFake;
  beforeAll(async () => {
    whatsappFake = await startWhatsAppFake({
      accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
      phoneNumberId: PHONE_ID,
      appSecret: 'x-app-secret',
      displayPhoneNumber: '+994 12 555 01 02',
      verifiedName: 'Acme Kebab',
    });
    twilioFake = await startTwilioVerifyFake({
      accountSid: ACCOUNT,
      authToken: CANARIES.TWILIO_AUTH_TOKEN!,
      serviceSid: SERVICE,
      friendlyName: 'MUPZAOS',
    });
  });
  afterAll(async () => {
    await whatsappFake.close();
    await twilioFake.close();
  });

  const whatsapp = (extra: Record<string, string> = {}) => {
    const config = testConfig(
      {
        WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
        WHATSAPP_API_VERSION: 'v23.0',
        WHATSAPP_GRAPH_BASE_URL: whatsappFake.url,
        ...extra,
      },
      { canaries: true },
    );
    return createWhatsAppAdapter({ config, redactor: createRedactor(config.secrets) });
  };
  const twilio = (extra: Record<string, string> = {}) => {
    const config = testConfig(
      {
        OTP_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_VERIFY_SERVICE_SID: SERVICE,
        TWILIO_VERIFY_BASE_URL: twilioFake.url,
        ...extra,
      },
      { canaries: true },
    );
    return createTwilioVerifyAdapter({ config, redactor: createRedactor(config.secrets) });
  };

  it("GET /{version}/{phone-number-id} with the Bearer token: verified name, number and quality; a wrong token is Meta's 190", async () => {
    expect(await whatsapp().verify!(AbortSignal.timeout(2_000))).toEqual({
      ok: true,
      detail: 'phone number +994 12 555 01 02 "Acme Kebab", quality GREEN',
    });
    expect(whatsappFake.rejections).toEqual([]);
    expect(whatsappFake.requestCount).toBe(1);
    const refused = await whatsapp({ WHATSAPP_ACCESS_TOKEN: 'expired-token-1' }).verify!(
      AbortSignal.timeout(2_000),
    );
    // The fake refused it as Meta does (HTTP 401, code 190), and we report that classified.
    expect(whatsappFake.rejections).toEqual([
      expect.objectContaining({ method: 'GET', path: `/v23.0/${PHONE_ID}`, status: 401, code: 190 }),
    ]);
    expect(refused).toMatchObject({ ok: false, errorCode: 'whatsapp_190' });
    expect((refused as { message: string }).message).toMatch(
      /Invalid OAuth access token.*HTTP 401, code 190/,
    );
  });

  it("GET /v2/Services/{sid} with Basic auth: the service name; a wrong token is Twilio's 20003", async () => {
    expect(await twilio().verify!(AbortSignal.timeout(2_000))).toEqual({
      ok: true,
      detail: `Verify service ${SERVICE} "MUPZAOS" reachable with these credentials`,
    });
    expect(twilioFake.receipts.map((r) => `${r.method} ${r.path} ${r.body.operation}`)).toEqual([
      `GET /v2/Services/${SERVICE} service`,
    ]);
    expect(twilioFake.rejections).toEqual([]);
    const refused = await twilio({ TWILIO_AUTH_TOKEN: 'wrong-token-123' }).verify!(
      AbortSignal.timeout(2_000),
    );
    expect(twilioFake.rejections).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `/v2/Services/${SERVICE}`,
        status: 401,
        code: 20003,
        reason: 'bad credentials',
      }),
    ]);
    expect(refused).toMatchObject({ ok: false, errorCode: 'twilio_20003' });
    expect((refused as { message: string }).message).toMatch(/Authenticate.*HTTP 401, code 20003/);
  });
});
