import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskTarget } from '../../src/core/redact.ts';
import { estimateAzn, parsePriceTable } from '../../src/core/wa-pricing.ts';
import { normalizeTarget } from '../../src/core/target.ts';
import { classifyWhatsApp } from '../../src/providers/whatsapp-errors.ts';
import { windowState } from '../../src/providers/whatsapp-window.ts';
import { mapPhoneNumber } from '../../src/webhooks/routing.ts';
import { graphError, startWhatsAppFake, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, enqueue, rowState, settled } from '../providers/helpers.ts';
import { count, modulesWith, PHONE_ID, settledReceipts } from './helpers.ts';

/**
 * WhatsApp in 2026: customers known by business-scoped user id (BSUID), possibly without a phone
 * number. Signed webhooks come from the WhatsApp fake (its 2026 behaviour from
 * test/fakes/whatsapp-2026-overlay.ts) to the app on a real port; replies go out through the live
 * adapter to the fake.
 */
let fake: WhatsAppFake;
let seq = 0;
const freshBsuid = () => `US.${13491208655302741918n + BigInt(++seq * 7919)}`;
const freshPhone = () => `+99450${5_000_000 + ++seq}`;

beforeAll(async () => {
  fake = await startWhatsAppFake({
    accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    phoneNumberId: PHONE_ID,
    appSecret: CANARIES.WHATSAPP_APP_SECRET!,
  });
});
afterAll(async () => {
  expect(fake.webhookDeliveries.filter((d) => d.status !== 200)).toEqual([]);
  await fake.close();
});

describe('price table and estimate (pure)', () => {
  it('parses category=price pairs and refuses anything else', () => {
    expect(parsePriceTable('marketing=0.086, utility=0.0145')).toEqual(
      new Map([
        ['marketing', 0.086],
        ['utility', 0.0145],
      ]),
    );
    for (const bad of ['marketing', 'marketing=-1', 'Marketing=1', 'marketing=1e3', 'a=1;b=2'])
      expect(typeof parsePriceTable(bad)).toBe('string');
  });
  it('estimates billable messages only, and names categories without a price', () => {
    const e = estimateAzn(
      [
        { category: 'utility', billable: true, messages: 10 },
        { category: 'service', billable: false, messages: 50 },
        { category: 'authentication', billable: true, messages: 3 },
      ],
      new Map([['utility', 0.0145]]),
    );
    expect(e).toEqual({ estimatedAzn: 0.145, unpricedCategories: ['authentication'] });
  });
});

describe('BSUID targets and masking (pure)', () => {
  it('a WhatsApp target is an E.164 phone, a BSUID or a parent BSUID; anything else is refused with a stable code', () => {
    expect(normalizeTarget('whatsapp', ' US.13491208655302741918 ')).toBe('US.13491208655302741918');
    expect(normalizeTarget('whatsapp', 'US.ENT.11815799212886844830')).toBe('US.ENT.11815799212886844830');
    expect(normalizeTarget('whatsapp', '+994501234567')).toBe('+994501234567');
    for (const bad of [
      'us.1349',
      'USA.1349',
      'US.',
      'US.ENT.',
      'US.13-49',
      `US.${'1'.repeat(129)}`,
      '@someone',
    ]) {
      expect(() => normalizeTarget('whatsapp', bad), bad).toThrow(
        expect.objectContaining({ code: 'invalid_phone' }),
      );
    }
    // OTP SMS still needs a phone.
    expect(() => normalizeTarget('otp_sms', 'US.13491208655302741918')).toThrow(
      expect.objectContaining({ code: 'invalid_phone' }),
    );
  });

  it('lists mask BSUIDs like phones', () => {
    expect(maskTarget('US.13491208655302741918')).toBe('US.••• ••• 18');
    expect(maskTarget('US.ENT.11815799212886844830')).toBe('US.ENT.••• ••• 30');
    expect(maskTarget('US.13491208655302741918')).not.toContain('1349120865');
  });

  it('131049 (per-user marketing limit) waits 24 h, as Meta asks', () => {
    expect(classifyWhatsApp(400, graphError(131049).json)).toMatchObject({
      class: 'rate_limited',
      code: 'whatsapp_131049',
      retryAfterMs: 86_400_000,
    });
  });

  it('131062 is permanent, with a reason that says what to do', () => {
    const c = classifyWhatsApp(400, graphError(131062).json);
    expect(c).toMatchObject({ class: 'permanent', code: 'whatsapp_131062' });
    expect(c.message).toMatch(/business-scoped user id .*not supported.*phone number.*131062/);
  });
});

for (const kind of await drivers()) {
  describe(`WhatsApp contacts keyed by identity [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      const { modules } = modulesWith();
      app = await createTestApp(kind, {
        env: {
          ...LIVE_ENV,
          WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
          WHATSAPP_API_VERSION: 'v23.0',
          WHATSAPP_GRAPH_BASE_URL: fake.url,
          WHATSAPP_PRICE_TABLE_AZN: 'marketing=0.086,utility=0.0145',
          // Reached by the two billable statuses of the acceptance 3 test.
          WHATSAPP_MONTHLY_CAP: 'acme=2',
        },
        modules,
      });
      await mapPhoneNumber(app.db, PHONE_ID, 'acme');
      const address = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
      fake.setWebhookUrl(`${address}/webhooks/whatsapp`);
      // A cold PGlite on a loaded machine can take most of a minute to open.
    }, 180_000);
    afterAll(() => app.close());

    it('acceptance 1: a username customer (user_id only, no from) is stored, opens the window, and a free-text reply to the BSUID goes out with `recipient` and reaches sent', async () => {
      const bsuid = freshBsuid();
      const d = await fake.sendInbound({
        userId: bsuid,
        username: 'sheena.n',
        text: 'Masa var?',
        profileName: 'Sheena',
      });
      expect(d.status).toBe(200);
      await settledReceipts(app);
      const row = (
        await app.db.query(
          'SELECT tenant_id, sender, sender_user_id, sender_username, sender_name, text FROM inbound_messages WHERE external_id = $1',
          [d.messageId],
        )
      ).rows[0];
      expect(row).toEqual({
        tenant_id: 'acme',
        sender: bsuid,
        sender_user_id: bsuid,
        sender_username: 'sheena.n',
        sender_name: 'Sheena',
        text: 'Masa var?',
      });
      const contact = (
        await app.db.query(
          'SELECT wa_id, user_id, username FROM whatsapp_contacts WHERE tenant_id = $1 AND user_id = $2',
          ['acme', bsuid],
        )
      ).rows;
      expect(contact).toEqual([{ wa_id: null, user_id: bsuid, username: 'sheena.n' }]);
      expect((await windowState(app.db, 'acme', bsuid)).open).toBe(true);

      const id = await enqueue(app, { channel: 'whatsapp', target: bsuid, body: 'Bəli, saat 8-də.' });
      const s = await settled(app, id);
      expect(s.status, s.reason ?? '').toBe('sent');
      const receipt = fake.receipts.find((r) => r.body.wamid === s.provider_message_id)!;
      expect(receipt.body.addressedBy).toBe('recipient');
      expect(receipt.body.message).toMatchObject({
        recipient: bsuid,
        type: 'text',
        text: { body: 'Bəli, saat 8-də.' },
      });
      expect(receipt.body.message).not.toHaveProperty('to');

      // The list masks the BSUID target and the inbound sender; the item view shows it.
      const list = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/outbox?channel=whatsapp&limit=50' })
      ).json() as { items: { id: string; target: string }[] };
      expect(list.items.find((i) => i.id === id)?.target).toBe(maskTarget(bsuid));
      const inbound = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/inbound?provider=whatsapp&limit=50' })
      ).json() as { items: { externalId: string; sender: string }[] };
      expect(inbound.items.find((i) => i.externalId === d.messageId)?.sender).toBe(maskTarget(bsuid));

      // The status Meta sends for it carries recipient_user_id and no phone; it still moves the row.
      expect((await fake.sendStatus(s.provider_message_id!, 'delivered')).status).toBe(200);
      await waitFor(async () => (await rowState(app, id)).status === 'delivered');
      const ev = (
        await app.db.query(
          'SELECT recipient_id, recipient_user_id FROM whatsapp_status_events WHERE wamid = $1',
          [s.provider_message_id],
        )
      ).rows;
      expect(ev).toEqual([{ recipient_id: null, recipient_user_id: bsuid }]);
    });

    it('a BSUID that never wrote has no window: free text to it is refused locally, with no call', async () => {
      const bsuid = freshBsuid();
      const before = fake.receipts.length;
      const id = await enqueue(app, { channel: 'whatsapp', target: bsuid, body: 'Salam' });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'dead', last_error_code: 'whatsapp_outside_window' });
      expect(fake.receipts.length).toBe(before);
    });

    it('a customer seen first by phone and later by phone + BSUID is one contact', async () => {
      const phone = freshPhone();
      const bsuid = freshBsuid();
      await fake.sendInbound({ from: phone, text: 'bir' });
      await fake.sendInbound({ from: phone, userId: bsuid, text: 'iki' });
      await settledReceipts(app);
      const rows = (
        await app.db.query(
          'SELECT wa_id, user_id FROM whatsapp_contacts WHERE tenant_id = $1 AND (wa_id = $2 OR user_id = $3)',
          ['acme', phone.slice(1), bsuid],
        )
      ).rows;
      expect(rows).toEqual([{ wa_id: phone.slice(1), user_id: bsuid }]);
    });

    it('acceptance 2: user_changed_number moves the contact, and the window follows it; a repeat changes nothing more', async () => {
      const oldPhone = freshPhone();
      const newPhone = freshPhone();
      await fake.sendInbound({ from: oldPhone, text: 'Salam' });
      await settledReceipts(app);
      expect((await windowState(app.db, 'acme', oldPhone)).open).toBe(true);
      expect((await windowState(app.db, 'acme', newPhone)).open).toBe(false);

      const d = await fake.sendSystemChange({
        kind: 'user_changed_number',
        from: oldPhone.slice(1),
        newWaId: newPhone.slice(1),
      });
      expect(d.status).toBe(200);
      await settledReceipts(app);
      expect((await windowState(app.db, 'acme', newPhone)).open).toBe(true);
      expect((await windowState(app.db, 'acme', oldPhone)).open).toBe(false);
      expect(
        await count(app, 'whatsapp_contacts', 'tenant_id = $1 AND wa_id = ANY($2)', [
          'acme',
          [oldPhone.slice(1), newPhone.slice(1)],
        ]),
      ).toBe(1);
      // Meta re-posts the same system message (same id): applied once, nothing moves back.
      await fake.sendSystemChange({
        kind: 'user_changed_number',
        from: oldPhone.slice(1),
        newWaId: newPhone.slice(1),
        id: d.messageId,
      });
      await settledReceipts(app);
      expect(
        await count(app, 'whatsapp_contacts', 'tenant_id = $1 AND wa_id = ANY($2)', [
          'acme',
          [oldPhone.slice(1), newPhone.slice(1)],
        ]),
      ).toBe(1);
      expect((await windowState(app.db, 'acme', oldPhone)).open).toBe(false);

      // A free-text reply to the new number is sent (the window is open there).
      const id = await enqueue(app, { channel: 'whatsapp', target: newPhone, body: 'Xoş gəldiniz' });
      expect((await settled(app, id)).status).toBe('sent');
      // And to the old one refused locally.
      const old = await enqueue(app, { channel: 'whatsapp', target: oldPhone, body: 'Xoş gəldiniz' });
      expect((await settled(app, old)).last_error_code).toBe('whatsapp_outside_window');
    });

    it('acceptance 3: statuses with pricing → the monthly view counts by category and billable/free with an AZN estimate; the cap reached → the next billable send is blocked with 0 provider calls', async () => {
      const usage = async (month?: string) =>
        app.as(app.ownerToken, {
          method: 'GET',
          url: `/api/v1/whatsapp/usage${month ? `?month=${month}` : ''}`,
        });
      const before = (await usage()).json() as {
        counts: { category: string; billable: boolean; messages: number }[];
      };
      const n = (u: typeof before, category: string, billable: boolean) =>
        u.counts.find((c) => c.category === category && c.billable === billable)?.messages ?? 0;
      const send = async () => {
        const phone = freshPhone();
        await fake.sendInbound({ from: phone, text: 'Salam' });
        await settledReceipts(app);
        const id = await enqueue(app, { channel: 'whatsapp', target: phone, body: 'Buyurun' });
        const s = await settled(app, id);
        expect(s.status).toBe('sent');
        return s.provider_message_id!;
      };
      const [a, b, c] = [await send(), await send(), await send()];
      const utility = { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' };
      await fake.sendStatus(a, 'sent', undefined, { pricing: utility });
      // The same message reported twice (sent, then delivered) counts once.
      await fake.sendStatus(a, 'delivered', undefined, { pricing: utility });
      await fake.sendStatus(b, 'delivered', undefined, { pricing: { ...utility } });
      await fake.sendStatus(c, 'delivered', undefined, {
        pricing: {
          billable: false,
          pricing_model: 'PMP',
          category: 'service',
          type: 'free_customer_service',
        },
      });
      await settledReceipts(app);
      const r = await usage();
      expect(r.statusCode, r.body).toBe(200);
      const after = r.json() as typeof before & {
        totals: { billable: number; free: number };
        estimate: { currency: string; estimatedAzn: number; unpricedCategories: string[] };
      };
      expect(n(after, 'utility', true) - n(before, 'utility', true)).toBe(2);
      expect(n(after, 'service', false) - n(before, 'service', false)).toBe(1);
      expect(after.estimate.currency).toBe('AZN');
      // The cap (acme=2) against the month's billable count: what the panel warns about from 80 %.
      const cap = (r.json() as { cap: { limit: number; used: number; percent: number } | null }).cap;
      expect(cap).toEqual({
        limit: 2,
        used: after.totals.billable,
        percent: Math.round((after.totals.billable / 2) * 1000) / 10,
      });
      expect(after.estimate.estimatedAzn).toBeCloseTo(
        n(after, 'utility', true) * 0.0145 + n(after, 'marketing', true) * 0.086,
        4,
      );
      // The pricing sits on the row's delivery record (the status event of its wamid).
      const ev = (
        await app.db.query(
          'SELECT outbox_id IS NOT NULL AS linked, pricing FROM whatsapp_status_events WHERE wamid = $1 AND status = $2',
          [b, 'delivered'],
        )
      ).rows[0];
      expect(ev).toEqual({
        linked: true,
        pricing: { billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' },
      });
      // Another month is empty; a malformed month is a 400.
      expect((await usage('2020-01')).json()).toMatchObject({
        month: '2020-01',
        counts: [],
        totals: { billable: 0, free: 0 },
      });
      for (const bad of ['2026-13', '26-01', 'x', '2026-1']) expect((await usage(bad)).statusCode).toBe(400);

      // The cap (acme=2 billable a month) is reached: the next template (business-initiated, billable)
      // send is blocked with the cap in its reason and no provider call; free text in the window still goes.
      expect(after.totals.billable).toBeGreaterThanOrEqual(2);
      const phone = freshPhone();
      await fake.sendInbound({ from: phone, text: 'Salam' });
      await settledReceipts(app);
      const calls = fake.receipts.length;
      const tpl = await enqueue(app, {
        channel: 'whatsapp',
        target: phone,
        template: 'daily_owner_report',
        data: { whatsappTemplate: 'daily_report', language: 'az', params: ['12', '340.50 ₼'] },
      });
      const blocked = await settled(app, tpl);
      expect(blocked).toMatchObject({ status: 'blocked', last_error_code: 'whatsapp_monthly_cap' });
      expect(blocked.reason).toMatch(/monthly WhatsApp cap reached: \d+ of 2 billable messages/);
      expect(fake.receipts.length).toBe(calls);
      const text = await enqueue(app, { channel: 'whatsapp', target: phone, body: 'Pulsuz cavab' });
      expect((await settled(app, text)).status).toBe('sent');
    });

    it('user_changed_user_id moves a BSUID-only contact to its new BSUID', async () => {
      const oldId = freshBsuid();
      const newId = freshBsuid();
      await fake.sendInbound({ userId: oldId, text: 'Salam' });
      await settledReceipts(app);
      await fake.sendSystemChange({ kind: 'user_changed_user_id', fromUserId: oldId, newUserId: newId });
      await settledReceipts(app);
      expect((await windowState(app.db, 'acme', newId)).open).toBe(true);
      expect((await windowState(app.db, 'acme', oldId)).open).toBe(false);
    });

    it('user_changed_user_id in the earlier shape (old BSUID on the message as from_user_id) moves the contact too', async () => {
      const oldId = freshBsuid();
      const newId = freshBsuid();
      await fake.sendInbound({ userId: oldId, text: 'Salam' });
      await settledReceipts(app);
      await fake.sendSystemChange({
        kind: 'user_changed_user_id',
        fromUserId: oldId,
        newUserId: newId,
        oldUserIdIn: 'message',
      });
      await settledReceipts(app);
      expect((await windowState(app.db, 'acme', newId)).open).toBe(true);
      expect((await windowState(app.db, 'acme', oldId)).open).toBe(false);
    });
  });
}
