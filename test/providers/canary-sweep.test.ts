import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterId } from '../../src/core/channels.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { ProviderError } from '../../src/providers/classify.ts';
import { createSmtpAdapter } from '../../src/providers/smtp.ts';
import { createTelegramAdapter } from '../../src/providers/telegram-bot.ts';
import { createTwilioVerifyAdapter, TwilioVerifyClient } from '../../src/providers/twilio-verify.ts';
import type { ProviderAdapter } from '../../src/providers/types.ts';
import { createWhatsAppAdapter } from '../../src/providers/whatsapp-cloud.ts';
import type { OutboxRow } from '../../src/store/rows.ts';
import { startTelegramFake, type TelegramFake } from '../fakes/telegram-bot.ts';
import { startTwilioVerifyFake, type TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { startWhatsAppFake, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES, findCanaries, leaks } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, scanDbForCanaries, testConfig, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, attemptsOf, cancelIfFailed, closedPort, enqueue, settled } from './helpers.ts';
import { startLoopbackSmtp, type LoopbackSmtp } from './smtp-server.ts';

/**
 * Acceptance 5: every error path of every adapter, driven with the canary secrets, leaves no canary
 * in a thrown error (or its cause), a log line, an attempt row, an audit row or an HTTP response.
 * The hostile servers here make leaks likely: one echoes the whole request (URL with the Telegram
 * token, Authorization headers) in its 500 body, the SMTP one echoes the AUTH password in its reply.
 */

const ACCOUNT = `AC${'c3'.repeat(16)}`;
const SERVICE = `VA${'d4'.repeat(16)}`;
const BASIC = Buffer.from(`${ACCOUNT}:${CANARIES.TWILIO_AUTH_TOKEN}`).toString('base64');
const SMTP_USER = 'mailer@mupzaos.az';

/** Canary names found in a text, plus the Twilio Basic credential (its base64 hides the token). */
function secretsIn(text: string): string[] {
  return [...findCanaries(text), ...(text.includes(BASIC) ? ['TWILIO_BASIC_CREDENTIAL'] : [])];
}

let hold: net.Server;
const held = new Set<net.Socket>();
let echo: http.Server;
let echoSaw = '';
let twilio401: TwilioVerifyFake;
let whatsapp401: WhatsAppFake;
let telegram401: TelegramFake;
let smtp535: LoopbackSmtp;
let smtpEcho: SMTPServer;
let smtpEchoPort = 0;

const urlOf = (s: net.Server | http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

beforeAll(async () => {
  // Accepts and never answers: an HTTP call that times out, an SMTP greeting that never comes.
  hold = net.createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((r) => hold.listen(0, '127.0.0.1', () => r()));
  // A 500 whose body echoes the request line and every header, in each provider's error shape.
  echo = http.createServer((req, res) => {
    const text = `${req.method} ${req.url} ${JSON.stringify(req.headers)}`;
    echoSaw += text;
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        code: 20500,
        message: text,
        status: 500,
        more_info: text,
        ok: false,
        error_code: 500,
        description: text,
        error: { code: 1, message: text, type: 'OAuthException', error_data: { details: text } },
      }),
    );
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  // Fakes that know other credentials: our canary credentials get their 401.
  twilio401 = await startTwilioVerifyFake({
    accountSid: ACCOUNT,
    authToken: 'another-token-123',
    serviceSid: SERVICE,
  });
  whatsapp401 = await startWhatsAppFake({
    accessToken: 'another-token-123',
    phoneNumberId: '1065403522',
    appSecret: 'x-app-secret',
  });
  telegram401 = await startTelegramFake({ token: '42:another-token' });
  smtp535 = await startLoopbackSmtp({ user: SMTP_USER, pass: 'another-password' });
  // Accepts AUTH, then refuses RCPT with a 554 whose text repeats the password it was given.
  smtpEcho = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _s, cb) => cb(null, { user: `${auth.username} ${auth.password}` }),
    onRcptTo: (_a, session, cb) =>
      cb(Object.assign(new Error(`rejected for ${String(session.user)}`), { responseCode: 554 })),
  });
  await new Promise<void>((r) => smtpEcho.listen(0, '127.0.0.1', () => r()));
  smtpEchoPort = (smtpEcho.server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((r) => hold.close(() => r()));
  await new Promise<void>((r) => echo.close(() => r()));
  await Promise.all([twilio401.close(), whatsapp401.close(), telegram401.close(), smtp535.close()]);
  await new Promise<void>((r) => smtpEcho.close(() => r()));
});

const BASE_ENV: Record<string, string> = {
  ...LIVE_ENV,
  // Failed rows are cancelled once checked; they must not be retried meanwhile.
  COMMS_RETRY_BASE_MS: '60000',
  COMMS_RETRY_CAP_MS: '120000',
  OTP_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: ACCOUNT,
  TWILIO_VERIFY_SERVICE_SID: SERVICE,
  WHATSAPP_PHONE_NUMBER_ID: '1065403522',
  WHATSAPP_API_VERSION: 'v23.0',
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: '1',
  SMTP_USER,
  SMTP_FROM: 'MUPZAOS <noreply@mupzaos.az>',
  SMTP_IGNORE_TLS: 'true',
};

type Http = 'twilio_verify' | 'whatsapp_cloud' | 'telegram_bot';
interface Path {
  name: string;
  /** Base URL for each HTTP provider. */
  http: (id: Http) => string;
  smtp: { host: string; port: number } | null;
}

async function paths(): Promise<Path[]> {
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const refusedSmtp = await closedPort();
  const holdPort = (hold.address() as AddressInfo).port;
  return [
    { name: 'refused connection', http: () => refused, smtp: { host: '127.0.0.1', port: refusedSmtp } },
    {
      name: 'DNS failure',
      http: () => 'http://nonexistent.invalid',
      smtp: { host: 'nonexistent.invalid', port: 25 },
    },
    { name: 'timeout', http: () => urlOf(hold), smtp: { host: '127.0.0.1', port: holdPort } },
    {
      name: '401',
      http: (id) =>
        id === 'twilio_verify' ? twilio401.url : id === 'whatsapp_cloud' ? whatsapp401.url : telegram401.url,
      smtp: { host: '127.0.0.1', port: smtp535.port },
    },
    {
      name: '500 echoing the request',
      http: () => urlOf(echo),
      smtp: { host: '127.0.0.1', port: smtpEchoPort },
    },
    // fetch refuses a URL with credentials and repeats the whole URL (with the bot token) in its message.
    {
      name: 'fetch error echoing its URL',
      http: () => `http://user:pw@127.0.0.1:${(echo.address() as AddressInfo).port}`,
      smtp: null,
    },
  ];
}

function adaptersFor(p: Path): Partial<Record<AdapterId, ProviderAdapter>> {
  const cfg = (extra: Record<string, string>) => {
    const config = testConfig({ ...BASE_ENV, ...extra }, { canaries: true });
    return { config, redactor: createRedactor(config.secrets) };
  };
  return {
    twilio_verify: createTwilioVerifyAdapter(cfg({ TWILIO_VERIFY_BASE_URL: p.http('twilio_verify') })),
    whatsapp_cloud: createWhatsAppAdapter(cfg({ WHATSAPP_GRAPH_BASE_URL: p.http('whatsapp_cloud') })),
    telegram_bot: createTelegramAdapter(cfg({ TELEGRAM_API_BASE_URL: p.http('telegram_bot') })),
    ...(p.smtp
      ? { smtp: createSmtpAdapter(cfg({ SMTP_HOST: p.smtp.host, SMTP_PORT: String(p.smtp.port) })) }
      : {}),
  };
}

/** An adapter that forwards to whichever real adapter the current error path uses (one app for all paths). */
function switchable(base: ProviderAdapter) {
  let current = base;
  const adapter: ProviderAdapter = {
    id: base.id,
    info: base.info,
    requiredEnv: base.requiredEnv,
    missingEnv: () => base.missingEnv(),
    render: (row) => current.render(row),
    send: (row, ctx) => current.send(row, ctx),
    verify: (signal) => current.verify!(signal),
  };
  return { adapter, use: (a: ProviderAdapter | undefined) => (current = a ?? base) };
}

const row = (over: Partial<OutboxRow>): OutboxRow =>
  ({
    id: '00000000-0000-4000-8000-00000000c0de',
    tenant_id: 'acme',
    title: null,
    subject: 'S',
    body: 'canary sweep',
    template: null,
    data: null,
    locale: 'az',
    ...over,
  }) as OutboxRow;
const ROWS: Record<string, OutboxRow> = {
  twilio_verify: row({ channel: 'otp_sms', target: '+994504000001' }),
  whatsapp_cloud: row({
    channel: 'whatsapp',
    target: '+994504000002',
    template: 'x',
    data: { whatsappTemplate: 'hello_world', language: 'en_US' },
  }),
  telegram_bot: row({ channel: 'telegram', target: '123456789' }),
  smtp: row({ channel: 'email', target: 'owner@restoran.az' }),
};
const TENANT = { id: 'acme', locale: 'az', timezone: 'Asia/Baku', currency: 'AZN' };

describe('canary sweep: adapters and the Twilio client called directly', () => {
  it('no canary in any SendResult, verify result, thrown error, its cause or its stack', async () => {
    const seen: string[] = [];
    for (const p of await paths()) {
      const adapters = adaptersFor(p);
      // Adapters of one path run side by side: the timeout path costs one timeout, not eight.
      await Promise.all(
        Object.entries(adapters).map(async ([id, adapter]) => {
          const result = await adapter!.send(ROWS[id]!, {
            signal: AbortSignal.timeout(1_000),
            tenant: TENANT,
          });
          expect(result.outcome, `${p.name} ${id}`).not.toBe('sent');
          const check = await adapter!.verify!(AbortSignal.timeout(1_000));
          // SMTP verify stops after AUTH, which the echoing server accepts; every other check fails.
          expect(check.ok, `${p.name} ${id} verify`).toBe(p.name.startsWith('500') && id === 'smtp');
          const text = JSON.stringify([result, check]);
          expect(secretsIn(text), `${p.name} ${id}: ${text.slice(0, 300)}`).toEqual([]);
          seen.push(`${p.name}/${id}:${(result as { errorCode?: string }).errorCode}`);
          await adapter!.close?.();
        }),
      );
      const client = new TwilioVerifyClient({
        baseUrl: p.http('twilio_verify'),
        accountSid: ACCOUNT,
        authToken: CANARIES.TWILIO_AUTH_TOKEN!,
        serviceSid: SERVICE,
        timeoutMs: 400,
        redactor: createRedactor(CANARIES),
      });
      await Promise.all(
        [
          () => client.start('+994504000003', 'en'),
          () => client.check(`VE${'0'.repeat(32)}`, '123456'),
          () => client.fetchService(),
        ].map(async (call) => {
          const err = await call().then(
            () => null,
            (e: unknown) => e as Error,
          );
          expect(err, p.name).toBeInstanceOf(ProviderError);
          const text = [
            String(err),
            err!.stack,
            JSON.stringify(err),
            String((err as Error & { cause?: unknown }).cause ?? ''),
          ].join('\n');
          expect(secretsIn(text), `${p.name}: ${text.slice(0, 300)}`).toEqual([]);
        }),
      );
    }
    // The sweep exercised a distinct classified error for each path.
    expect(seen).toContain('refused connection/telegram_bot:telegram_connection');
    expect(seen).toContain('DNS failure/whatsapp_cloud:whatsapp_dns');
    expect(seen).toContain('timeout/twilio_verify:provider_uncertain');
    expect(seen).toContain('401/smtp:smtp_535');
    expect(seen).toContain('500 echoing the request/smtp:smtp_554');
    expect(seen).toContain('fetch error echoing its URL/telegram_bot:telegram_other');
    expect(seen.filter((s) => s.startsWith('DNS failure/smtp'))).toEqual(['DNS failure/smtp:smtp_edns']);
    // The caller's 1 s signal ends the SMTP send before nodemailer's own greeting timeout (1.2 s).
    expect(seen.filter((s) => s.startsWith('timeout/smtp'))).toEqual(['timeout/smtp:smtp_timeout']);
    // The hostile server really was handed the secrets, so a missing scrub would have shown.
    expect(echoSaw).toContain(CANARIES.TELEGRAM_BOT_TOKEN);
    expect(echoSaw).toContain(CANARIES.WHATSAPP_ACCESS_TOKEN);
    expect(echoSaw).toContain(BASIC);
  });
});

for (const kind of await drivers()) {
  describe(`canary sweep through the real dispatcher, the API and the logs [${kind}]`, () => {
    let app: TestApp;
    const sw = {
      twilio_verify: switchable(
        createTwilioVerifyAdapter({
          config: testConfig(BASE_ENV, { canaries: true }),
          redactor: createRedactor(CANARIES),
        }),
      ),
      whatsapp_cloud: switchable(
        createWhatsAppAdapter({
          config: testConfig(BASE_ENV, { canaries: true }),
          redactor: createRedactor(CANARIES),
        }),
      ),
      telegram_bot: switchable(
        createTelegramAdapter({
          config: testConfig(BASE_ENV, { canaries: true }),
          redactor: createRedactor(CANARIES),
        }),
      ),
      smtp: switchable(
        createSmtpAdapter({
          config: testConfig(BASE_ENV, { canaries: true }),
          redactor: createRedactor(CANARIES),
        }),
      ),
    };
    beforeAll(async () => {
      app = await createTestApp(kind, {
        env: BASE_ENV,
        adapterOverrides: Object.fromEntries(Object.entries(sw).map(([k, v]) => [k, v.adapter])),
        modules: [(await import('../../src/providers/module.ts')).providersModule()],
      });
    });
    afterAll(() => app.close());

    it('every path × adapter: rows, attempts, audit, API answers and log lines carry no canary', async () => {
      let rows = 0;
      for (const p of await paths()) {
        const adapters = adaptersFor(p);
        for (const [id, s] of Object.entries(sw)) s.use(adapters[id as AdapterId]);
        const ids = await Promise.all(
          Object.keys(adapters).map((id) => {
            const r = ROWS[id]!;
            return enqueue(app, {
              channel: r.channel,
              target: r.target,
              subject: 'S',
              ...(r.template ? { template: 'x', data: r.data! } : { body: 'canary sweep' }),
            });
          }),
        );
        for (const id of ids) {
          const s = await settled(app, id);
          expect(['failed', 'dead', 'blocked'], `${p.name}: ${s.status} ${s.reason}`).toContain(s.status);
          const attempts = await attemptsOf(app, id);
          expect(attempts.length).toBeGreaterThanOrEqual(1);
          const item = await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` });
          const audit = await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` });
          expect(item.statusCode).toBe(200);
          const text = JSON.stringify([s, attempts]) + item.body + audit.body;
          expect(secretsIn(text), `${p.name}: ${text.slice(0, 300)}`).toEqual([]);
          await cancelIfFailed(app, s);
          rows++;
        }
        await Promise.all(
          ['twilio_verify', 'whatsapp_cloud', 'telegram_bot', ...(p.smtp ? ['smtp'] : [])].map(async (id) => {
            const res = await app.as(app.ownerToken, {
              method: 'POST',
              url: `/api/v1/providers/${id}/verify`,
            });
            expect(res.statusCode, res.body).toBe(200);
            expect(res.json()).toMatchObject({ ok: p.name.startsWith('500') && id === 'smtp' });
            expect(secretsIn(res.body)).toEqual([]);
          }),
        );
        for (const a of Object.values(adapters)) await a.close?.();
      }
      expect(rows).toBe(23);
      const readiness = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' });
      expect(secretsIn(readiness.body)).toEqual([]);
      await scanDbForCanaries(app.db);
      expect(secretsIn(app.logs.lines.join('\n'))).toEqual([]);
      expect(leaks).toEqual([]);
    });
  });
}
