import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { CANARIES } from '../helpers/canary.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import {
  REDACTED,
  createRedactor,
  maskIdentifier,
  maskTarget,
  redactUrlQuery,
} from '../../src/core/redact.ts';
import { installSecretContentGuard } from '../../src/http/secret-guard.ts';
import { AppError } from '../../src/core/errors.ts';
import { presentItem } from '../../src/http/present.ts';
import type { OutboxRow } from '../../src/store/rows.ts';

/** Env-sourced identifiers: not secrets, but never returned whole (issue 15, item 13). */
const IDENTIFIERS = {
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(28)}9f3c`,
  TWILIO_VERIFY_SERVICE_SID: 'VA8d2c4e6f0a1b3c5d7e9f1a2b3c4d9f3c',
  WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
  SMTP_USER: 'mailer-account@mupza-mail.az',
  SMTP_FROM: 'MUPZAOS <no-reply@mupza-mail.az>',
};
const ENV = {
  ...IDENTIFIERS,
  OTP_PROVIDER: 'twilio',
  WHATSAPP_API_VERSION: 'v23.0',
  SMTP_HOST: 'smtp.example.az',
  SMTP_PORT: '587',
  BACKEND_PUBLIC_URL: 'https://comms.example.az',
};

function expectNoIdentifier(where: string, text: string): void {
  for (const [name, value] of Object.entries(IDENTIFIERS))
    expect(text.includes(value), `${where} shows ${name}`).toBe(false);
}

describe('masking helpers', () => {
  it('identifiers keep a recognisable stub; secrets are replaced whole', () => {
    expect(maskIdentifier('VA8d2c4e6f0a1b3c5d7e9f1a2b3c4d9f3c')).toBe('VA…9f3c');
    expect(maskIdentifier('106540352')).toBe('10…52');
    const r = createRedactor(
      { TWILIO_AUTH_TOKEN: 'twilio-auth-token-1' },
      { TWILIO_VERIFY_SERVICE_SID: IDENTIFIERS.TWILIO_VERIFY_SERVICE_SID, SMTP_USER: 'mailer' },
    );
    expect(
      r.scrub(`/v2/Services/${IDENTIFIERS.TWILIO_VERIFY_SERVICE_SID}/Verifications twilio-auth-token-1`),
    ).toBe(`/v2/Services/VA…9f3c/Verifications ${REDACTED}`);
    // Short identifiers are not searched in free text: "mailer" would shred "Nodemailer".
    expect(r.scrub('Nodemailer')).toBe('Nodemailer');
    expect(r.findSecretNames(IDENTIFIERS.TWILIO_VERIFY_SERVICE_SID)).toEqual([]);
    expect(r.findNames(IDENTIFIERS.TWILIO_VERIFY_SERVICE_SID)).toEqual(['TWILIO_VERIFY_SERVICE_SID']);
  });

  it('Telegram chat ids are masked like phones, an @username is not an email', () => {
    expect(maskTarget('123456789', 'telegram')).toBe('12 ••• 89');
    expect(maskTarget('-1001234567890', 'telegram')).toBe('-10 ••• 90');
    expect(maskTarget('@nargiz_owner', 'telegram')).toBe('@n•••er');
    expect(maskTarget('+994500000001', 'whatsapp')).toBe('+994 ••• ••• 01');
  });

  it('lists mask the chat id inside a Telegram message id too', () => {
    const row = {
      id: 'x',
      channel: 'telegram',
      target: '123456789',
      provider_message_id: '123456789:42',
      send_at: new Date(),
      next_attempt_at: null,
      expires_at: null,
      created_at: new Date(),
      updated_at: new Date(),
      attempts: 1,
      max_attempts: 8,
    } as unknown as OutboxRow;
    expect(presentItem(row, { mask: true })).toMatchObject({
      target: '12 ••• 89',
      providerMessageId: '12 ••• 89:42',
    });
    expect(presentItem(row, { mask: false })).toMatchObject({
      target: '123456789',
      providerMessageId: '123456789:42',
    });
  });

  it('URLs for logs lose the values of credential-like query parameters only', () => {
    expect(redactUrlQuery('/api/v1/lan/ws?token=mz_device_abc&x=1')).toBe(
      `/api/v1/lan/ws?token=${REDACTED}&x=1`,
    );
    expect(
      redactUrlQuery('/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=42'),
    ).toBe(`/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${REDACTED}&hub.challenge=42`);
    expect(redactUrlQuery('/api/v1/outbox?status=dead&cursor=abc')).toBe(
      '/api/v1/outbox?status=dead&cursor=abc',
    );
    expect(redactUrlQuery('/x?%74oken=a&access%5Fkey=b&bad=%E0%A4%A')).toBe(
      `/x?%74oken=${REDACTED}&access%5Fkey=${REDACTED}&bad=%E0%A4%A`,
    );
  });

  it('the content guard covers a route registered after it, behind the route’s own authentication', async () => {
    const app = Fastify();
    app.setErrorHandler((err, _req, reply) => {
      const e = err instanceof AppError ? err : new AppError('internal_error', 'x');
      return reply.code(e.status).send({ error: e.code });
    });
    installSecretContentGuard(app, createRedactor({ TELEGRAM_WEBHOOK_SECRET: 'hook-secret-zz' }));
    await app.register(async (scope) => {
      scope.post(
        '/later',
        {
          preHandler: async (req) => {
            if (req.headers.authorization !== 'ok') throw new AppError('unauthorized', 'no');
          },
        },
        async () => ({ stored: true }),
      );
      scope.get('/read', async () => ({ ok: true }));
    });
    expect(
      (await app.inject({ method: 'POST', url: '/later', payload: { name: 'hook-secret-zz' } })).json(),
    ).toEqual({ error: 'unauthorized' });
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/later',
          headers: { authorization: 'ok' },
          payload: { name: 'a hook-secret-zz b' },
        })
      ).json(),
    ).toEqual({ error: 'secret_in_content' });
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/later',
          headers: { authorization: 'ok' },
          payload: { name: 'kitchen' },
        })
      ).json(),
    ).toEqual({ stored: true });
    await app.close();
  });
});

for (const kind of await drivers()) {
  describe(`configured env values never leave the service [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind, { canaries: true, env: ENV });
    });
    afterAll(() => app.close());

    it('readiness, lists, item detail with the rendered request, audit and inbound hold no configured identifier', async () => {
      const t = app.ownerToken;
      const sends = [
        { channel: 'email', target: 'owner@example.az', subject: 'Daily report', body: 'Hello' },
        { channel: 'whatsapp', target: '+994501234567', body: 'Hello' },
        { channel: 'otp_sms', target: '+994501234568', body: 'Your code' },
      ];
      const ids: string[] = [];
      for (const payload of sends) {
        const res = await app.as(t, { method: 'POST', url: '/api/v1/outbox', payload });
        expect(res.statusCode, res.body).toBeLessThan(300);
        ids.push((res.json() as { id: string }).id);
      }
      const details = await waitFor(async () => {
        const all = await Promise.all(
          ids.map(
            async (id) =>
              (await app.as(t, { method: 'GET', url: `/api/v1/outbox/${id}` })).json() as {
                attempts: { request: unknown }[];
              },
          ),
        );
        return all.every((d) => d.attempts.length > 0) ? all : null;
      });
      const shown = JSON.stringify(details);
      expectNoIdentifier('item detail', shown);
      // The rendered requests still show where they go, with the identifier masked.
      expect(shown).toContain('/Services/VA…9f3c/Verifications');
      expect(shown).toContain('/v23.0/10…2922/messages');
      expect(shown).toContain('"from":"MU….az>"');
      for (const url of [
        '/api/v1/readiness',
        '/api/v1/outbox',
        '/api/v1/inbound',
        ...ids.map((id) => `/api/v1/outbox/${id}/audit`),
      ]) {
        const res = await app.as(t, { method: 'GET', url });
        expect(res.statusCode, url).toBe(200);
        expectNoIdentifier(url, res.body);
      }
      // Stored masked at render time: the attempts table holds no identifier either.
      const stored = await app.db.query<{ t: string }>(
        `SELECT coalesce(string_agg(request::text, ' '), '') AS t FROM outbox_attempts`,
      );
      expectNoIdentifier('stored attempts', stored.rows[0]!.t);
      // Identifiers are not secrets: a message naming the sender address is accepted.
      const ok = await app.as(t, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { channel: 'in_app', target: 'pos-desktop-01', body: `Mail from ${IDENTIFIERS.SMTP_FROM}` },
      });
      expect(ok.statusCode, ok.body).toBeLessThan(300);
    });

    it('Telegram chat ids are masked in the list, shown whole in the item view', async () => {
      const t = app.ownerToken;
      const made: Record<string, string> = {};
      for (const target of ['123456789', '@nargiz_owner']) {
        const res = await app.as(t, {
          method: 'POST',
          url: '/api/v1/outbox',
          payload: { channel: 'telegram', target, body: 'Hello' },
        });
        expect(res.statusCode, res.body).toBeLessThan(300);
        made[target] = (res.json() as { id: string }).id;
      }
      const list = (await app.as(t, { method: 'GET', url: '/api/v1/outbox?channel=telegram' })).json() as {
        items: { id: string; target: string }[];
      };
      const byId = new Map(list.items.map((i) => [i.id, i.target]));
      expect(byId.get(made['123456789']!)).toBe('12 ••• 89');
      expect(byId.get(made['@nargiz_owner']!)).toBe('@n•••er');
      const item = (
        await app.as(t, { method: 'GET', url: `/api/v1/outbox/${made['@nargiz_owner']!}` })
      ).json() as { target: string };
      expect(item.target).toBe('@nargiz_owner');
    });

    it('owner text carrying a configured secret is refused on every write route, nothing stored or audited', async () => {
      const t = app.ownerToken;
      const secret = CANARIES.TELEGRAM_WEBHOOK_SECRET!;
      const attempts = [
        { url: '/api/v1/lan/devices', payload: { id: 'kitchen-secret-01', role: 'kitchen', name: secret } },
        {
          url: '/api/v1/lan/devices',
          payload: { id: 'kitchen-secret-02', role: 'kitchen', name: `Kitchen ${CANARIES.SMTP_PASS}` },
        },
        {
          url: '/api/v1/tenant/policy',
          method: 'PUT' as const,
          payload: { optIns: { email: true }, note: secret },
        },
        {
          url: '/api/v1/outbox',
          payload: { channel: 'in_app', target: 'pos-desktop-01', body: 'x', idempotencyKey: secret },
        },
        {
          url: '/api/v1/outbox/batch',
          payload: { messages: [{ channel: 'in_app', target: 'pos-desktop-01', body: secret }] },
        },
        { url: '/api/v1/lan/notifications', payload: { target: { role: 'kitchen' }, title: secret } },
      ];
      for (const a of attempts) {
        const res = await app.as(t, { method: a.method ?? 'POST', url: a.url, payload: a.payload });
        expect(res.statusCode, `${a.url} ${res.body}`).toBe(400);
        expect(res.json(), a.url).toMatchObject({ error: 'secret_in_content' });
        expect(res.body).not.toContain(secret);
      }
      // Without a token the route's own authentication answers first.
      const anon = await app.inject({
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: { id: 'x-01', role: 'pos', name: secret },
      });
      expect(anon.statusCode).toBe(401);
      const devices = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM lan_devices WHERE id LIKE 'kitchen-secret-%'`,
      );
      expect(devices.rows[0]!.n).toBe(0);
      // The operator route is covered too.
      const admin = await app.inject({
        method: 'POST',
        url: '/api/v1/admin/tenants',
        headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
        payload: {
          id: 'leaky-cafe',
          name: secret,
          country: 'AZ',
          currency: 'AZN',
          timezone: 'Asia/Baku',
          locale: 'az',
        },
      });
      expect(admin.json()).toMatchObject({ error: 'secret_in_content' });
      // An ordinary device is still registered.
      const fine = await app.as(t, {
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: { id: 'kitchen-fine-01', role: 'kitchen', name: 'Kitchen' },
      });
      expect(fine.statusCode, fine.body).toBe(201);
    });

    it('request logs show a token in the query string as [REDACTED]', async () => {
      const token = 'mz_device_querystring_leak_probe_7781';
      const before = app.logs.lines.length;
      const res = await app.inject({ method: 'GET', url: `/api/v1/lan/ws?token=${token}&v=1` });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      await waitFor(async () => app.logs.lines.length > before);
      const lines = app.logs.lines.slice(before);
      expect(lines.join('\n')).not.toContain(token);
      const incoming = app.logs
        .parsed()
        .find((l) => l.msg === 'incoming request' && JSON.stringify(l).includes('/api/v1/lan/ws'));
      expect((incoming?.req as { url?: string } | undefined)?.url).toBe(
        `/api/v1/lan/ws?token=${REDACTED}&v=1`,
      );
    });
  });
}
