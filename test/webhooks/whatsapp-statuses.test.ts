import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowState } from '../../src/providers/whatsapp-window.ts';
import { mapPhoneNumber } from '../../src/webhooks/routing.ts';
import { buildStatusPayload, startWhatsAppFake, type WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { laneClaimedSince } from '../helpers/lane-cycle.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, enqueue, rowState, settled } from '../providers/helpers.ts';
import { count, metaSigned, modulesWith, PHONE_ID, postWhatsApp, settledReceipts } from './helpers.ts';

/**
 * Delivery statuses end to end: real `sent` rows come from the live WhatsApp adapter sending to the
 * WhatsApp fake (after the customer's inbound message, delivered through our webhook, opened the
 * 24-hour window); the fake then posts signed status webhooks to the app listening on a real port.
 */
let fake: WhatsAppFake;
let seq = 0;
const freshCustomer = () => `+99450${4_000_000 + ++seq}`;

beforeAll(async () => {
  fake = await startWhatsAppFake({
    accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    phoneNumberId: PHONE_ID,
    appSecret: CANARIES.WHATSAPP_APP_SECRET!,
  });
});
afterAll(async () => {
  // Every webhook the fake posted was accepted (signed raw bytes, answered 200).
  expect(fake.webhookDeliveries.filter((d) => d.status !== 200)).toEqual([]);
  await fake.close();
});

for (const kind of await drivers()) {
  describe(`WhatsApp delivery statuses through the fake [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      const { modules } = modulesWith();
      app = await createTestApp(kind, {
        env: {
          ...LIVE_ENV,
          WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
          WHATSAPP_API_VERSION: 'v23.0',
          WHATSAPP_GRAPH_BASE_URL: fake.url,
        },
        modules,
      });
      await mapPhoneNumber(app.db, PHONE_ID, 'acme');
      const address = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
      fake.setWebhookUrl(`${address}/webhooks/whatsapp`);
    });
    afterAll(() => app.close());

    /** The customer writes first (through our webhook), then we answer with free text: a real `sent` row. */
    const sentRow = async (): Promise<{ id: string; wamid: string; to: string }> => {
      const to = freshCustomer();
      const d = await fake.sendInbound({ from: to, text: 'Salam, sifariş verə bilərəm?' });
      expect(d.status).toBe(200);
      await settledReceipts(app);
      const id = await enqueue(app, { channel: 'whatsapp', target: to, body: 'Bəli, buyurun!' });
      const s = await settled(app, id);
      expect(s.status, s.reason ?? '').toBe('sent');
      return { id, wamid: s.provider_message_id!, to };
    };

    const statusEvents = async (wamid: string) =>
      (
        await app.db.query<{ status: string; outcome: string }>(
          'SELECT status, outcome FROM whatsapp_status_events WHERE wamid = $1 ORDER BY received_at, status',
          [wamid],
        )
      ).rows;

    it("Meta's subscription handshake against the listening app: the challenge comes back exactly; a wrong token is refused", async () => {
      expect(await fake.verifyWebhook(CANARIES.WHATSAPP_VERIFY_TOKEN!)).toMatchObject({
        status: 200,
        accepted: true,
      });
      expect(await fake.verifyWebhook('not-the-token')).toMatchObject({ status: 403, accepted: false });
    });

    it('an inbound message through the webhook is recorded for the tenant and opens the 24-hour window', async () => {
      const to = freshCustomer();
      const d = await fake.sendInbound({ from: to, text: 'Menyu?', profileName: 'Rəşad' });
      expect(d.status).toBe(200);
      await settledReceipts(app);
      const row = (
        await app.db.query(
          'SELECT tenant_id, sender, sender_name, type, text FROM inbound_messages WHERE external_id = $1',
          [d.messageId],
        )
      ).rows[0];
      expect(row).toEqual({
        tenant_id: 'acme',
        sender: to.slice(1),
        sender_name: 'Rəşad',
        type: 'text',
        text: 'Menyu?',
      });
      const w = await windowState(app.db, 'acme', to.slice(1));
      expect(w.open).toBe(true);
    });

    it('acceptance 4: read delivered before delivered leaves the row read; the late delivered and a repeated read change nothing', async () => {
      const { id, wamid } = await sentRow();
      expect((await fake.sendStatus(wamid, 'read')).status).toBe(200);
      await waitFor(async () => (await rowState(app, id)).status === 'read');
      expect((await fake.sendStatus(wamid, 'delivered')).status).toBe(200);
      expect((await fake.sendStatus(wamid, 'read')).status).toBe(200);
      expect((await fake.sendStatus(wamid, 'sent')).status).toBe(200);
      await settledReceipts(app);
      expect((await rowState(app, id)).status).toBe('read');
      expect(await statusEvents(wamid)).toEqual(
        expect.arrayContaining([
          { status: 'read', outcome: 'applied' },
          { status: 'delivered', outcome: 'stale' },
          { status: 'sent', outcome: 'stale' },
        ]),
      );
      expect(await count(app, 'whatsapp_status_events', 'wamid = $1', [wamid])).toBe(3);
      const audit = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as { events: { actor: string; from: string; to: string; action: string }[] };
      expect(audit.events.map((e) => [e.from, e.to, e.actor])).toEqual([
        [null, 'ready', 'owner:acme-owner'],
        ['ready', 'sending', expect.stringMatching(/^dispatcher/)],
        ['sending', 'sent', expect.stringMatching(/^dispatcher/)],
        ['sent', 'read', 'webhook:whatsapp'],
      ]);
    });

    it('sent → delivered → read in order is applied step by step, each with its audit event', async () => {
      const { id, wamid } = await sentRow();
      for (const s of ['sent', 'delivered', 'read'] as const) await fake.sendStatus(wamid, s);
      await settledReceipts(app);
      expect((await rowState(app, id)).status).toBe('read');
      const audit = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as { events: { actor: string; from: string; to: string }[] };
      expect(audit.events.filter((e) => e.actor === 'webhook:whatsapp').map((e) => [e.from, e.to])).toEqual([
        ['sent', 'delivered'],
        ['delivered', 'read'],
      ]);
    });

    it("a failed status carries Meta's error code onto the row, which is not retried on its own", async () => {
      const { id, wamid } = await sentRow();
      await fake.sendStatus(wamid, 'failed', [
        {
          code: 131047,
          title: 'Re-engagement message',
          message: 'Re-engagement message',
          error_data: { details: 'More than 24 hours have passed.' },
        },
      ]);
      await waitFor(async () => (await rowState(app, id)).status === 'failed');
      const s = await rowState(app, id);
      expect(s).toMatchObject({
        status: 'failed',
        last_error_code: '131047',
        attempts: 1,
        next_attempt_at: null,
      });
      expect(s.reason).toContain('131047');
      expect(s.reason).toContain('Re-engagement message');
      // The WhatsApp lane has claimed a later row since: a claimable row would have been taken too.
      await laneClaimedSince(app.db, { tenant: 'acme', channel: 'whatsapp', adapter: 'whatsapp_cloud' });
      expect((await rowState(app, id)).attempts).toBe(1);
      // A late "delivered" after "failed" does not resurrect it.
      await fake.sendStatus(wamid, 'delivered');
      await settledReceipts(app);
      expect((await rowState(app, id)).status).toBe('failed');
      // The move is audited once, by the webhook, with Meta's code in the reason and the detail
      // (the stale "delivered" adds no event).
      const audit = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as {
        events: {
          actor: string;
          action: string;
          from: string;
          to: string;
          reason: string;
          detail: { wamid?: string; errors?: { code: number | null }[] } | null;
        }[];
      };
      const byWebhook = audit.events.filter((e) => e.actor === 'webhook:whatsapp');
      expect(byWebhook).toHaveLength(1);
      expect(byWebhook[0]).toMatchObject({
        action: 'provider_status',
        from: 'sent',
        to: 'failed',
        reason: expect.stringMatching(/^WhatsApp 131047: Re-engagement message/),
      });
      expect(byWebhook[0]!.detail).toMatchObject({
        wamid,
        errors: [expect.objectContaining({ code: 131047 })],
      });
    });

    it('a status that arrives before the send is recorded waits as unmatched and is applied once the row carries the wamid', async () => {
      const { id, wamid } = await sentRow();
      // Simulate the race: Meta's webhook beats the dispatcher's commit of the provider id.
      await app.db.query('UPDATE outbox SET provider_message_id = NULL WHERE id = $1', [id]);
      await fake.sendStatus(wamid, 'delivered');
      await settledReceipts(app);
      expect(await statusEvents(wamid)).toEqual([{ status: 'delivered', outcome: 'unmatched' }]);
      expect((await rowState(app, id)).status).toBe('sent');
      await app.db.query('UPDATE outbox SET provider_message_id = $2 WHERE id = $1', [id, wamid]);
      await waitFor(async () => (await rowState(app, id)).status === 'delivered', 5_000);
      expect(await statusEvents(wamid)).toEqual([{ status: 'delivered', outcome: 'applied' }]);
    });

    it('a batched payload with several statuses for several rows applies each; re-posting it 3 times changes nothing more', async () => {
      const a = await sentRow();
      const b = await sentRow();
      const one = (wamid: string, status: 'delivered' | 'read', to: string) =>
        (
          buildStatusPayload({
            phoneNumberId: PHONE_ID,
            wamid,
            status,
            recipientId: to.slice(1),
            timestamp: 1_750_000_100,
          }).entry as { changes: { value: { statuses: unknown[] } }[] }[]
        )[0]!.changes[0]!.value.statuses[0];
      const payload = buildStatusPayload({
        phoneNumberId: PHONE_ID,
        wamid: a.wamid,
        status: 'delivered',
        recipientId: a.to.slice(1),
        timestamp: 1_750_000_100,
      });
      (payload.entry as { changes: { value: { statuses: unknown[] } }[] }[])[0]!.changes[0]!.value.statuses =
        [one(a.wamid, 'delivered', a.to), one(b.wamid, 'read', b.to), one(a.wamid, 'read', a.to)];
      const { raw, signature } = metaSigned(payload);
      for (let i = 0; i < 3; i++) expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(200);
      await settledReceipts(app);
      expect((await rowState(app, a.id)).status).toBe('read');
      expect((await rowState(app, b.id)).status).toBe('read');
      expect(
        await count(
          app,
          'audit_events',
          `entity = 'outbox' AND actor = 'webhook:whatsapp' AND entity_id = ANY($1)`,
          [[a.id, b.id]],
        ),
      ).toBe(3);
    });
  });
}
