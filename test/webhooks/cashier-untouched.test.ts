import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapPhoneNumber } from '../../src/webhooks/routing.ts';
import { buildInboundPayload, buildStatusPayload, newWamid } from '../fakes/whatsapp-cloud.ts';
import { buildStartUpdate } from '../fakes/telegram-bot.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { enqueue } from '../providers/helpers.ts';
import {
  count,
  metaSigned,
  modulesWith,
  PHONE_ID,
  postTelegram,
  postWhatsApp,
  settledReceipts,
  snapshot,
} from './helpers.ts';

/**
 * "Cashier approval untouched": whatever arrives — text that reads like a command, a bot command, a
 * template button, an interactive reply, an order cart, a callback button, an edited message, a
 * status for a dry-run row — changes nothing but the inbound record and its event.
 *
 * Tables left out of the equality check, each for a stated reason: inbound_messages and
 * webhook_receipts (the record itself), whatsapp_windows and whatsapp_contacts (a customer's message opens the 24-hour
 * window: part of recording it), whatsapp_status_events (the record of a status), audit_events
 * (checked separately: the only new events are the inbound "received" events), audit_seals (the
 * hash chain the sealer appends over audit events).
 */
const EXCLUDED = [
  'inbound_messages',
  'webhook_receipts',
  'whatsapp_windows',
  'whatsapp_contacts',
  'whatsapp_status_events',
  'audit_events',
  'audit_seals',
];
const CUSTOMER = '994501112233';
let ts = 1_750_100_000;

/** A Meta inbound webhook whose message is `message` (type-specific fields), from CUSTOMER. */
function waMessage(message: Record<string, unknown>): Record<string, unknown> {
  const p = buildInboundPayload({ phoneNumberId: PHONE_ID, from: CUSTOMER, text: '', timestamp: ++ts });
  const value = (p.entry as { changes: { value: { messages: Record<string, unknown>[] } }[] }[])[0]!
    .changes[0]!.value;
  value.messages = [{ from: CUSTOMER, id: newWamid(), timestamp: String(ts), ...message }];
  return p;
}

interface Kind {
  name: string;
  provider: 'whatsapp' | 'telegram';
  body: () => Record<string, unknown>;
  /** Inbound events expected (0 for a chat linked to no tenant, or a status). */
  events: number;
  inbound: number;
}

const OWNER_CHAT = 770_000_001;
const STRANGER_CHAT = 770_000_002;
let updateId = 9_000;
const DRY_RUN_WAMID = newWamid();

const KINDS: Kind[] = [
  {
    name: 'WhatsApp text "approve order 123"',
    provider: 'whatsapp',
    body: () => waMessage({ type: 'text', text: { body: 'approve order 123' } }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'WhatsApp text "/approve"',
    provider: 'whatsapp',
    body: () => waMessage({ type: 'text', text: { body: '/approve' } }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'WhatsApp template button payload',
    provider: 'whatsapp',
    body: () => waMessage({ type: 'button', button: { text: 'Approve', payload: 'APPROVE_ORDER_123' } }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'WhatsApp interactive button reply',
    provider: 'whatsapp',
    body: () =>
      waMessage({
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: 'approve_order_123', title: 'Təsdiqlə' } },
      }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'WhatsApp interactive list reply "void order 77"',
    provider: 'whatsapp',
    body: () =>
      waMessage({
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: 'void_order_77', title: 'Void order 77' } },
      }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'WhatsApp order (cart) message',
    provider: 'whatsapp',
    body: () =>
      waMessage({
        type: 'order',
        order: {
          catalog_id: '1',
          text: 'pay now',
          product_items: [{ product_retailer_id: 'kebab', quantity: 3, item_price: 9.5, currency: 'AZN' }],
        },
      }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'WhatsApp "read" status for a dry-run (mock_sent) row',
    provider: 'whatsapp',
    body: () =>
      buildStatusPayload({
        phoneNumberId: PHONE_ID,
        wamid: DRY_RUN_WAMID,
        status: 'read',
        recipientId: CUSTOMER,
        timestamp: ++ts,
      }),
    events: 0,
    inbound: 0,
  },
  {
    name: 'Telegram text "approve order 123" from the linked owner',
    provider: 'telegram',
    body: () =>
      buildStartUpdate({
        updateId: ++updateId,
        chatId: OWNER_CHAT,
        text: 'approve order 123',
      }) as unknown as Record<string, unknown>,
    events: 1,
    inbound: 1,
  },
  {
    name: 'Telegram command "/approve"',
    provider: 'telegram',
    body: () =>
      buildStartUpdate({
        updateId: ++updateId,
        chatId: OWNER_CHAT,
        text: '/approve 123',
      }) as unknown as Record<string, unknown>,
    events: 1,
    inbound: 1,
  },
  {
    name: 'Telegram inline button (callback_query "approve:123")',
    provider: 'telegram',
    body: () => ({
      update_id: ++updateId,
      callback_query: {
        id: '4382bfdwdsb323b2d9',
        from: { id: OWNER_CHAT, is_bot: false, first_name: 'Elvin' },
        chat_instance: '-1',
        data: 'approve:123',
        message: {
          message_id: 7,
          date: ts,
          chat: { id: OWNER_CHAT, type: 'private' },
          text: 'Order 123: approve?',
        },
      },
    }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'Telegram edited message "approve order 124"',
    provider: 'telegram',
    body: () => ({
      update_id: ++updateId,
      edited_message: {
        message_id: 3,
        date: ts,
        edit_date: ts + 5,
        from: { id: OWNER_CHAT, is_bot: false, first_name: 'Elvin' },
        chat: { id: OWNER_CHAT, type: 'private' },
        text: 'approve order 124',
      },
    }),
    events: 1,
    inbound: 1,
  },
  {
    name: 'Telegram "/approve" from a chat linked to no tenant',
    provider: 'telegram',
    body: () =>
      buildStartUpdate({
        updateId: ++updateId,
        chatId: STRANGER_CHAT,
        text: '/approve',
      }) as unknown as Record<string, unknown>,
    events: 0,
    inbound: 1,
  },
];

for (const kind of await drivers()) {
  describe(`inbound messages never change business state [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind, {
        env: { WHATSAPP_PHONE_NUMBER_ID: PHONE_ID },
        modules: modulesWith().modules,
      });
      await mapPhoneNumber(app.db, PHONE_ID, 'acme');
      // Business state to keep an eye on: a linked owner chat, and outbox rows in several statuses.
      const link = (
        await app.as(app.ownerToken, { method: 'POST', url: '/api/v1/telegram/links', payload: {} })
      ).json() as { token: string };
      expect(
        (
          await postTelegram(
            app,
            buildStartUpdate({ updateId: ++updateId, chatId: OWNER_CHAT, text: `/start ${link.token}` }),
          )
        ).statusCode,
      ).toBe(200);
      await settledReceipts(app);
      expect(await count(app, 'telegram_contacts')).toBe(1);
      const dry = await enqueue(app, {
        channel: 'whatsapp',
        target: `+${CUSTOMER}`,
        body: 'Sifarişiniz hazırdır',
      });
      await enqueue(app, { channel: 'email', target: 'owner@acme.az', subject: 'Hesabat', body: 'ok' });
      await enqueue(app, {
        channel: 'telegram',
        target: String(OWNER_CHAT),
        body: 'Gün sonu',
        sendAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      const cancelled = await enqueue(app, {
        channel: 'email',
        target: 'x@acme.az',
        subject: 's',
        body: 'b',
        sendAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await app.rt.outbox.cancel('acme', cancelled, 'owner:acme-owner');
      await waitFor(
        async () => (await count(app, 'outbox', `status IN ('ready', 'sending') AND send_at <= now()`)) === 0,
      );
      // Give the dry-run row the wamid a status will name (a dry-run row never has one of its own).
      await app.db.query(
        `UPDATE outbox SET provider_message_id = $2 WHERE id = $1 AND status = 'mock_sent'`,
        [dry, DRY_RUN_WAMID],
      );
    });
    afterAll(() => app.close());

    for (const k of KINDS) {
      it(`${k.name}: only the inbound record and its event`, async () => {
        const before = await snapshot(app, EXCLUDED);
        const lastAudit = (
          await app.db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM audit_events')
        ).rows[0]!.id;
        const inboundBefore = await count(app, 'inbound_messages');
        const body = k.body();
        const res =
          k.provider === 'whatsapp'
            ? await (async () => {
                const { raw, signature } = metaSigned(body);
                return postWhatsApp(app, raw, signature);
              })()
            : await postTelegram(app, body);
        expect(res.statusCode, res.body).toBe(200);
        await settledReceipts(app);

        expect(await snapshot(app, EXCLUDED)).toEqual(before);
        const events = await app.db.query<{ entity: string; action: string; actor: string }>(
          'SELECT entity, action, actor FROM audit_events WHERE id > $1 ORDER BY id',
          [lastAudit],
        );
        expect(events.rows).toEqual(
          Array.from({ length: k.events }, () => ({
            entity: 'inbound',
            action: 'received',
            actor: `webhook:${k.provider}`,
          })),
        );
        expect(await count(app, 'inbound_messages')).toBe(inboundBefore + k.inbound);
      });
    }

    it('the dry-run row was not touched by its status, and readiness still says cashier approval untouched', async () => {
      const e = (
        await app.db.query<{ outcome: string }>(
          'SELECT outcome FROM whatsapp_status_events WHERE wamid = $1',
          [DRY_RUN_WAMID],
        )
      ).rows;
      expect(e).toEqual([{ outcome: 'ignored' }]);
      expect(
        await count(app, 'outbox', `provider_message_id = $1 AND status = 'mock_sent'`, [DRY_RUN_WAMID]),
      ).toBe(1);
      const r = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
        flags: { cashierApprovalUntouched: boolean };
      };
      expect(r.flags.cashierApprovalUntouched).toBe(true);
      const recorded = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/inbound?limit=200' })
      ).json() as { items: { type: string; text: string | null }[] };
      expect(recorded.items.map((i) => i.text)).toEqual(
        expect.arrayContaining([
          'approve order 123',
          '/approve',
          'Approve',
          'Təsdiqlə',
          'Void order 77',
          'approve:123',
          'approve order 124',
        ]),
      );
    });
  });
}
