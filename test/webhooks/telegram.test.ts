import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommands } from '../../src/cli/commands.ts';
import { DEMO_TENANT } from '../../src/app/demo-seed.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { newToken, storeToken } from '../../src/store/tokens.ts';
import { setTelegramWebhook } from '../../src/webhooks/registration.ts';
import { buildStartUpdate, startTelegramFake, type TelegramFake } from '../fakes/telegram-bot.ts';
import { CANARIES } from '../helpers/canary.ts';
import { freePort } from '../helpers/child.ts';
import { drivers } from '../helpers/db.ts';
import { BASE_ENV, createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV } from '../providers/helpers.ts';
import { count, modulesWith, postChunked, postTelegram, settledReceipts } from './helpers.ts';

/**
 * The Telegram webhook end to end: `telegram set-webhook` registers our URL with the Telegram fake,
 * the fake posts Updates to the app listening on a real port, and replies leave through the outbox
 * and the live Telegram adapter back to the fake (production runtime, sends enabled).
 */
const BOT = 'mupzaos_test_bot';
let fake: TelegramFake;
let updateId = 500_000;
let chat = 880_000_000;

beforeAll(async () => {
  fake = await startTelegramFake({
    token: CANARIES.TELEGRAM_BOT_TOKEN!,
    allowHttpWebhook: true,
    botUsername: BOT,
  });
});
afterAll(async () => {
  // Nothing we sent failed the fake's api.json checks, and every Update it posted was answered 200.
  expect(fake.rejections, JSON.stringify(fake.rejections)).toEqual([]);
  expect(fake.webhookDeliveries.filter((d) => d.status !== 200)).toEqual([]);
  await fake.close();
});

for (const kind of await drivers()) {
  describe(`Telegram webhook and chat linking through the fake [${kind}]`, () => {
    let app: TestApp;
    let port: number;
    let env: Record<string, string>;
    beforeAll(async () => {
      port = await freePort();
      env = {
        ...LIVE_ENV,
        TELEGRAM_API_BASE_URL: fake.url,
        BACKEND_PUBLIC_URL: `http://127.0.0.1:${port}`,
        TELEGRAM_BOT_USERNAME: BOT,
      };
      app = await createTestApp(kind, { env, modules: modulesWith().modules });
      await app.rt.http!.listen({ port, host: '127.0.0.1' });
    });
    afterAll(() => app.close());

    const readiness = async () =>
      (
        (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
          webhooks: { telegram: { registered: boolean; at: string | null; url: string | null } };
        }
      ).webhooks.telegram;
    const sentTo = (chatId: number) =>
      fake.receipts.filter((r) => String(r.body.params.chat_id) === String(chatId));
    const newLink = async () => {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/telegram/links',
        payload: {},
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { token: string; url: string | null; expiresAt: string };
    };

    it('set-webhook registers BACKEND_PUBLIC_URL/telegram/webhook/<secret> with the secret token; readiness shows it', async () => {
      expect(await readiness()).toEqual({ registered: false, at: null, url: null });
      const r = await setTelegramWebhook(app.db, app.rt.config, app.rt.redactor);
      expect(fake.webhook).toMatchObject({
        url: `http://127.0.0.1:${port}/telegram/webhook/${CANARIES.TELEGRAM_WEBHOOK_SECRET!}`,
        secretToken: CANARIES.TELEGRAM_WEBHOOK_SECRET!,
        allowedUpdates: ['message', 'edited_message', 'callback_query'],
      });
      expect(r.url).toBe(`http://127.0.0.1:${port}/telegram/webhook/{TELEGRAM_WEBHOOK_SECRET}`);
      expect(await readiness()).toEqual({ registered: true, at: r.at.toISOString(), url: r.url });
    });

    it.runIf(kind === 'postgres')(
      'the CLI command does the same against the same database (exit 0), and exits 2 without BACKEND_PUBLIC_URL',
      async () => {
        const config = loadConfig({ ...BASE_ENV, ...CANARIES, ...env, DATABASE_URL: app.url! });
        expect(await cliCommands.telegram!(['set-webhook'], () => config)).toBe(0);
        expect((await readiness()).registered).toBe(true);
        const { BACKEND_PUBLIC_URL: _b, ...withoutUrl } = env;
        expect(
          await cliCommands.telegram!(['set-webhook'], () =>
            loadConfig({ ...BASE_ENV, ...CANARIES, ...withoutUrl, DATABASE_URL: app.url! }),
          ),
        ).toBe(2);
        expect(await cliCommands.telegram!(['nonsense'], () => config)).toBe(2);
      },
    );

    it('wrong path secret, wrong header, missing header, or both wrong: 401 without detail, nothing stored', async () => {
      const before = await count(app, 'webhook_receipts');
      const update = buildStartUpdate({ updateId: ++updateId, chatId: ++chat, text: 'hi' });
      const right = CANARIES.TELEGRAM_WEBHOOK_SECRET!;
      const cases: [string, string | null][] = [
        ['wrong-path-secret', right],
        [right, 'wrong-header-secret'],
        [right, null],
        ['wrong-path-secret', 'wrong-path-secret'],
        [`${right}x`, `${right}x`],
      ];
      for (const [path, header] of cases) {
        const r = await postTelegram(app, update, path, header);
        expect(
          r.statusCode,
          `${path === right ? 'right' : 'wrong'} path, ${header === right ? 'right' : header === null ? 'no' : 'wrong'} header`,
        ).toBe(401);
        expect(r.json()).toEqual({
          error: 'invalid_signature',
          message: 'Unauthorized.',
          requestId: expect.any(String),
        });
      }
      // A malformed body or a body without update_id behind the right secrets is 400, stored nowhere.
      const bad = await app.inject({
        method: 'POST',
        url: `/telegram/webhook/${right}`,
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': right },
        payload: '{"update_id":',
      });
      expect(bad.statusCode).toBe(400);
      expect((await postTelegram(app, { message: { text: 'x' } })).statusCode).toBe(400);
      expect(await count(app, 'webhook_receipts')).toBe(before);
    });

    it('acceptance 3 (Telegram): the same Update delivered 3 times is stored once', async () => {
      const update = buildStartUpdate({ updateId: ++updateId, chatId: ++chat, text: 'Salam' });
      for (let i = 0; i < 3; i++) expect((await fake.postUpdate(update)).status).toBe(200);
      await settledReceipts(app);
      expect(
        await count(app, 'webhook_receipts', `provider = 'telegram' AND dedupe_key = $1`, [
          String(update.update_id),
        ]),
      ).toBe(1);
      expect(
        await count(app, 'inbound_messages', `provider = 'telegram' AND external_id = $1`, [
          String(update.update_id),
        ]),
      ).toBe(1);
    });

    it('acceptance 5: token created, /start received, chat linked, confirmation sent through the outbox to the fake; reusing the token is refused politely', async () => {
      const link = await newLink();
      expect(link.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(link.url).toBe(`https://t.me/${BOT}?start=${link.token}`);
      const ttl = Date.parse(link.expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan(14 * 60_000);
      expect(ttl).toBeLessThanOrEqual(15 * 60_000);

      const owner = ++chat;
      const start = buildStartUpdate({
        updateId: ++updateId,
        chatId: owner,
        text: `/start ${link.token}`,
        firstName: 'Elvin',
        languageCode: 'en',
      });
      expect((await fake.postUpdate(start)).status).toBe(200);
      const contact = await waitFor(
        async () =>
          (
            await app.db.query(
              'SELECT tenant_id, chat_id, owner_subject, first_name FROM telegram_contacts WHERE chat_id = $1',
              [String(owner)],
            )
          ).rows[0],
      );
      expect(contact).toEqual({
        tenant_id: 'acme',
        chat_id: String(owner),
        owner_subject: 'acme-owner',
        first_name: 'Elvin',
      });

      // The confirmation went through the outbox (template, audited) and the live adapter to the fake.
      const row = (
        await app.db.query<{ id: string; template: string; source: string }>(
          `SELECT id::text, template, source FROM outbox WHERE channel = 'telegram' AND target = $1`,
          [String(owner)],
        )
      ).rows;
      expect(row).toHaveLength(1);
      expect(row[0]).toMatchObject({ template: 'telegram_link_confirmed', source: 'telegram_link' });
      await waitFor(
        async () =>
          (await app.db.query<{ status: string }>('SELECT status FROM outbox WHERE id = $1', [row[0]!.id]))
            .rows[0]!.status === 'sent',
      );
      expect(sentTo(owner).map((r) => r.body.message.text)).toEqual([
        expect.stringContaining('Your Telegram chat is now linked to MUPZAOS owner notifications.'),
      ]);
      const linkAudit = await app.db.query<{
        actor: string;
        action: string;
        from_status: string;
        to_status: string;
        reply: string | null;
      }>(
        `SELECT actor, action, from_status, to_status, detail->>'reply' AS reply FROM audit_events WHERE entity = 'telegram_link' ORDER BY id`,
      );
      expect(linkAudit.rows.slice(-2)).toEqual([
        {
          actor: 'owner:acme-owner',
          action: 'created',
          from_status: null,
          to_status: 'pending',
          reply: null,
        },
        {
          actor: 'webhook:telegram',
          action: 'linked',
          from_status: 'pending',
          to_status: 'used',
          reply: 'enqueued',
        },
      ]);
      // The spent token is not kept in the inbound record.
      const rec = (
        await app.db.query<{ tenant_id: string; type: string; text: string; raw: unknown }>(
          `SELECT tenant_id, type, text, raw FROM inbound_messages WHERE provider = 'telegram' AND external_id = $1`,
          [String(start.update_id)],
        )
      ).rows[0]!;
      expect(rec).toMatchObject({ tenant_id: 'acme', type: 'command', text: '/start [link token]' });
      expect(JSON.stringify(rec.raw)).not.toContain(link.token);

      // Reuse from another chat: nothing linked, a polite reply through the outbox.
      const other = ++chat;
      expect(
        (
          await fake.postUpdate(
            buildStartUpdate({
              updateId: ++updateId,
              chatId: other,
              text: `/start ${link.token}`,
              languageCode: 'ru',
            }),
          )
        ).status,
      ).toBe(200);
      await waitFor(async () => sentTo(other).length === 1);
      expect(sentTo(other)[0]!.body.message.text).toContain('уже использована');
      expect(await count(app, 'telegram_contacts', 'chat_id = $1', [String(other)])).toBe(0);
      expect(await count(app, 'telegram_contacts', 'chat_id = $1', [String(owner)])).toBe(1);
      const refused = await app.db.query<{ action: string; reason: string }>(
        `SELECT action, reason FROM audit_events WHERE entity = 'telegram_link' ORDER BY id DESC LIMIT 1`,
      );
      expect(refused.rows[0]).toMatchObject({
        action: 'refused',
        reason: expect.stringContaining('already used'),
      });

      // The linked chat now routes to acme: its next message is in the owner's inbound list.
      const hello = buildStartUpdate({ updateId: ++updateId, chatId: owner, text: 'approve order 123' });
      await fake.postUpdate(hello);
      await settledReceipts(app);
      const list = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/inbound?provider=telegram' })
      ).json() as { items: { externalId: string; text: string; type: string }[] };
      expect(list.items.find((i) => i.externalId === String(hello.update_id))).toMatchObject({
        text: 'approve order 123',
        type: 'text',
      });
    });

    it('an expired token and an unknown token link nothing; the expired one is answered by its tenant', async () => {
      const link = await newLink();
      // Fifteen minutes pass.
      await app.db.query(
        `UPDATE telegram_links SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`,
      );
      const late = ++chat;
      await fake.postUpdate(
        buildStartUpdate({
          updateId: ++updateId,
          chatId: late,
          text: `/start ${link.token}`,
          languageCode: 'az',
        }),
      );
      await waitFor(async () => sentTo(late).length === 1);
      expect(sentTo(late)[0]!.body.message.text).toContain('vaxtı keçib');
      const unknown = ++chat;
      await fake.postUpdate(
        buildStartUpdate({
          updateId: ++updateId,
          chatId: unknown,
          text: '/start NoSuchToken_0123456789abcdefghijk',
        }),
      );
      await settledReceipts(app);
      // No tenant to answer from (no demo tenant, chat linked to nobody): logged, nothing sent.
      expect(await count(app, 'outbox', `channel = 'telegram' AND target = $1`, [String(unknown)])).toBe(0);
      expect(
        await count(app, 'telegram_contacts', 'chat_id = ANY($1)', [[String(late), String(unknown)]]),
      ).toBe(0);
      expect(app.logs.parsed().some((l) => String(l.msg).includes('unknown link token'))).toBe(true);
    });

    it('an edited "/start <token>" links nothing', async () => {
      const link = await newLink();
      const editor = ++chat;
      const edited = {
        update_id: ++updateId,
        edited_message: {
          message_id: 9,
          date: 1_750_000_000,
          edit_date: 1_750_000_100,
          from: { id: editor, is_bot: false, first_name: 'E' },
          chat: { id: editor, type: 'private' },
          text: `/start ${link.token}`,
          entities: [{ offset: 0, length: 6, type: 'bot_command' }],
        },
      };
      expect((await fake.postUpdate(edited)).status).toBe(200);
      await settledReceipts(app);
      expect(await count(app, 'telegram_contacts', 'chat_id = $1', [String(editor)])).toBe(0);
      expect(await count(app, 'telegram_links', 'used_at IS NULL AND expires_at > now()')).toBe(1);
      await app.db.query(
        `UPDATE telegram_links SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`,
      );
    });

    it('an unknown token from a chat of an opted-in tenant is answered through the outbox to the fake, and links nothing', async () => {
      // The owner's chat is linked to acme (opted in to Telegram).
      const owner = ++chat;
      const link = await newLink();
      await fake.postUpdate(
        buildStartUpdate({
          updateId: ++updateId,
          chatId: owner,
          text: `/start ${link.token}`,
          languageCode: 'en',
        }),
      );
      await waitFor(async () => sentTo(owner).length === 1);
      const before = {
        contacts: await count(app, 'telegram_contacts'),
        used: await count(app, 'telegram_links', 'used_at IS NOT NULL'),
        linked: await count(app, 'audit_events', `entity = 'telegram_link' AND action = 'linked'`),
      };

      // A stale or mistyped link later: acme answers politely, nothing changes.
      await fake.postUpdate(
        buildStartUpdate({
          updateId: ++updateId,
          chatId: owner,
          text: '/start NoSuchToken_0123456789abcdefghijk',
          languageCode: 'en',
        }),
      );
      await waitFor(async () => sentTo(owner).length === 2);
      expect(sentTo(owner)[1]!.body.message.text).toBe(
        'This link is invalid, expired or already used. Please create a new Telegram link in the MUPZAOS panel.',
      );
      const rowsOf = async () =>
        (
          await app.db.query<{ tenant_id: string; source: string; status: string; template: string | null }>(
            `SELECT tenant_id, source, status, template FROM outbox WHERE channel = 'telegram' AND target = $1 ORDER BY created_at`,
            [String(owner)],
          )
        ).rows;
      // The fake has the message once the send is made; the row says so once its outcome is recorded.
      await waitFor(async () => (await rowsOf()).every((r) => r.status !== 'sending'));
      const rows = await rowsOf();
      expect(rows).toEqual([
        { tenant_id: 'acme', source: 'telegram_link', status: 'sent', template: 'telegram_link_confirmed' },
        { tenant_id: 'acme', source: 'telegram_link', status: 'sent', template: null },
      ]);
      expect(await count(app, 'telegram_contacts')).toBe(before.contacts);
      expect(await count(app, 'telegram_links', 'used_at IS NOT NULL')).toBe(before.used);
      expect(await count(app, 'audit_events', `entity = 'telegram_link' AND action = 'linked'`)).toBe(
        before.linked,
      );
    });

    it('without the Telegram opt-in neither a confirmation nor a refusal is enqueued; the link is still made and audited', async () => {
      expect(
        (
          await app.as(app.ownerToken, {
            method: 'PUT',
            url: '/api/v1/tenant/policy',
            payload: { optIns: { telegram: false } },
          })
        ).statusCode,
      ).toBe(200);
      try {
        const link = await newLink();
        const owner = ++chat;
        await fake.postUpdate(
          buildStartUpdate({ updateId: ++updateId, chatId: owner, text: `/start ${link.token}` }),
        );
        const late = ++chat;
        await fake.postUpdate(
          buildStartUpdate({ updateId: ++updateId, chatId: late, text: `/start ${link.token}` }),
        );
        await settledReceipts(app);
        expect(await count(app, 'telegram_contacts', 'chat_id = $1', [String(owner)])).toBe(1);
        expect(await count(app, 'telegram_contacts', 'chat_id = $1', [String(late)])).toBe(0);
        // One rule for both answers: nothing waits in the outbox to arrive stale once Telegram is on.
        expect(
          await count(app, 'outbox', `channel = 'telegram' AND target = ANY($1)`, [
            [String(owner), String(late)],
          ]),
        ).toBe(0);
        const audit = await app.db.query<{ action: string; chat: string; reply: string }>(
          `SELECT action, detail->>'chatId' AS chat, detail->>'reply' AS reply FROM audit_events WHERE entity = 'telegram_link' AND detail->>'chatId' = ANY($1) ORDER BY id`,
          [[String(owner), String(late)]],
        );
        expect(audit.rows).toEqual([
          { action: 'linked', chat: String(owner), reply: 'no_opt_in' },
          { action: 'refused', chat: String(late), reply: 'no_opt_in' },
        ]);
        expect([...sentTo(owner), ...sentTo(late)]).toEqual([]);
      } finally {
        await app.as(app.ownerToken, {
          method: 'PUT',
          url: '/api/v1/tenant/policy',
          payload: { optIns: { telegram: true } },
        });
      }
    });

    it('an unknown token from an unlinked chat is answered by the demo tenant once it exists and is opted in; the update is recorded with no tenant', async () => {
      await app.db.tx((q) => createTenant(q, { ...DEMO_TENANT, optIns: { telegram: true } }, 'test'));
      const stranger = ++chat;
      await fake.postUpdate(
        buildStartUpdate({
          updateId: ++updateId,
          chatId: stranger,
          text: '/start NoSuchToken_0123456789abcdefghijk',
          languageCode: 'ru',
        }),
      );
      await waitFor(async () => sentTo(stranger).length === 1);
      expect(sentTo(stranger)[0]!.body.message.text).toContain('недействительна');
      expect(
        (
          await app.db.query(`SELECT tenant_id FROM outbox WHERE channel = 'telegram' AND target = $1`, [
            String(stranger),
          ])
        ).rows,
      ).toEqual([{ tenant_id: 'demo' }]);
      expect(await count(app, 'telegram_contacts', 'chat_id = $1', [String(stranger)])).toBe(0);
      // The reply's tenant scoping does not spill onto the record (enqueued last, see answerStart).
      await settledReceipts(app);
      expect(
        (
          await app.db.query(
            `SELECT tenant_id, text FROM inbound_messages WHERE provider = 'telegram' AND sender = $1`,
            [String(stranger)],
          )
        ).rows,
      ).toEqual([{ tenant_id: null, text: '/start NoSuchToken_0123456789abcdefghijk' }]);
      expect(await count(app, 'webhook_receipts', `outcome = 'failed' OR last_error IS NOT NULL`)).toBe(0);
    });

    it('only an owner creates link tokens', async () => {
      const service = newToken('service');
      await storeToken(app.db, { token: service, tenantId: 'acme', role: 'service', subject: 'pos-sync' });
      const r = await app.as(service, { method: 'POST', url: '/api/v1/telegram/links', payload: {} });
      expect(r.statusCode).toBe(403);
      expect(
        (await app.inject({ method: 'POST', url: '/api/v1/telegram/links', payload: {} })).statusCode,
      ).toBe(401);
      expect(
        (
          await app.as(app.ownerToken, {
            method: 'POST',
            url: '/api/v1/telegram/links',
            payload: { tenant: 'other' },
          })
        ).statusCode,
      ).toBe(400);
    });
  });
}

describe('a Telegram secret longer than the router parameter limit (150 characters) [pglite]', () => {
  const secret = `${'S'.repeat(149)}x`;
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('pglite', {
      env: { TELEGRAM_WEBHOOK_SECRET: secret },
      modules: modulesWith().modules,
    });
  });
  afterAll(() => app.close());

  it('is accepted on the path and in the header; one character off is still 401', async () => {
    const update = buildStartUpdate({ updateId: 1, chatId: 1, text: 'hi' });
    expect((await postTelegram(app, update, secret, secret)).statusCode).toBe(200);
    expect((await postTelegram(app, update, `${secret.slice(0, -1)}y`, secret)).statusCode).toBe(401);
    expect((await postTelegram(app, update, secret, `${secret.slice(0, -1)}y`)).statusCode).toBe(401);
  });
});

describe('Telegram webhook body limit (4096 bytes) [pglite]', () => {
  const LIMIT = 4096;
  const secret = CANARIES.TELEGRAM_WEBHOOK_SECRET!;
  const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret };
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('pglite', {
      env: { COMMS_WEBHOOK_BODY_LIMIT_BYTES: String(LIMIT) },
      modules: modulesWith().modules,
    });
  });
  afterAll(() => app.close());

  it('an oversized Update is 413 payload_too_large behind the right secrets, with Content-Length or chunked without it; nothing stored', async () => {
    const big = JSON.stringify(buildStartUpdate({ updateId: 1, chatId: 1, text: 'x'.repeat(LIMIT) }));
    expect(Buffer.byteLength(big)).toBeGreaterThan(LIMIT);
    const r = await app.inject({ method: 'POST', url: `/telegram/webhook/${secret}`, headers, payload: big });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ error: 'payload_too_large' });

    const base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
    const bytes = Buffer.from(big);
    const chunked = await postChunked(base, `/telegram/webhook/${secret}`, headers, [
      bytes.subarray(0, 2000),
      bytes.subarray(2000),
    ]);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: 'payload_too_large' });
    expect(await count(app, 'webhook_receipts')).toBe(0);

    // Just under the limit is the same route working.
    expect(
      (await postTelegram(app, buildStartUpdate({ updateId: 2, chatId: 2, text: 'hi' }))).statusCode,
    ).toBe(200);
    expect(await count(app, 'webhook_receipts')).toBe(1);
  });
});
