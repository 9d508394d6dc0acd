import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/store/tenants.ts';
import { mapPhoneNumber } from '../../src/webhooks/routing.ts';
import {
  buildInboundPayload,
  buildStatusPayload,
  newWamid,
  signWhatsAppBody,
} from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import {
  count,
  metaSigned,
  modulesWith,
  PHONE_ID,
  postChunked,
  postWhatsApp,
  settledReceipts,
} from './helpers.ts';

const LIMIT = 4096;
/** A second number of the business account, mapped to acme; PHONE_ID (the env number) goes to demo. */
const ACME_PHONE_ID = '200300400500600';
const AZ_TEXT = 'Salam! Sifarişim hazırdır? Çox sağ olun — Ə Ğ İ Ö Ş Ü Ç ə ğ ı ö ş ü ç 🍢';
let ts = 1_750_000_000;

const inbound = (text: string, phoneNumberId = ACME_PHONE_ID, id = newWamid()) =>
  buildInboundPayload({
    phoneNumberId,
    from: '994501234567',
    text,
    id,
    timestamp: ++ts,
    profileName: 'Aysel',
  });

for (const kind of await drivers()) {
  describe(`WhatsApp webhook: verification, signatures, limits [${kind}]`, () => {
    let app: TestApp;
    let hmacs = 0;
    beforeAll(async () => {
      const { modules } = modulesWith({ hooks: { onHmac: () => hmacs++ } });
      app = await createTestApp(kind, {
        env: { WHATSAPP_PHONE_NUMBER_ID: PHONE_ID, COMMS_WEBHOOK_BODY_LIMIT_BYTES: String(LIMIT) },
        modules,
      });
      await app.db.tx((q) =>
        createTenant(
          q,
          { id: 'demo', name: 'Demo', country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' },
          'test',
        ),
      );
      await mapPhoneNumber(app.db, ACME_PHONE_ID, 'acme');
    });
    afterAll(() => app.close());

    it('GET verification: subscribe + the verify token answers exactly hub.challenge as text; anything else is 403', async () => {
      const get = (q: Record<string, string>) =>
        app.inject({ method: 'GET', url: `/webhooks/whatsapp?${new URLSearchParams(q).toString()}` });
      const ok = await get({
        'hub.mode': 'subscribe',
        'hub.challenge': '1158201444',
        'hub.verify_token': CANARIES.WHATSAPP_VERIFY_TOKEN!,
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toBe('1158201444');
      expect(ok.headers['content-type']).toMatch(/^text\/plain/);
      const bad: Record<string, string>[] = [
        { 'hub.mode': 'subscribe', 'hub.challenge': '1', 'hub.verify_token': 'wrong-token' },
        {
          'hub.mode': 'unsubscribe',
          'hub.challenge': '1',
          'hub.verify_token': CANARIES.WHATSAPP_VERIFY_TOKEN!,
        },
        { 'hub.mode': 'subscribe', 'hub.challenge': '1' },
        {
          'hub.mode': 'subscribe',
          'hub.challenge': '1',
          'hub.verify_token': `${CANARIES.WHATSAPP_VERIFY_TOKEN!}x`,
        },
        { 'hub.mode': 'subscribe', 'hub.verify_token': CANARIES.WHATSAPP_VERIFY_TOKEN! },
        {},
      ];
      for (const q of bad) {
        const r = await get(q);
        expect(r.statusCode, JSON.stringify(Object.keys(q))).toBe(403);
        expect(r.json()).toMatchObject({ error: 'webhook_verify_failed' });
      }
    });

    it('acceptance 1: Meta-escaped non-ASCII text signed over its raw bytes is accepted; the same JSON re-serialised with the original header is refused', async () => {
      const before = await count(app, 'webhook_receipts');
      const payload = inbound(AZ_TEXT);
      const { raw, signature } = metaSigned(payload);
      // Meta's bytes: pure ASCII, every non-ASCII UTF-16 unit as \uXXXX.
      expect(raw).toContain('\\u0259');
      expect(/^[\x20-\x7e]*$/.test(raw)).toBe(true);
      const res = await postWhatsApp(app, raw, signature);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: false });

      const reserialised = JSON.stringify(JSON.parse(raw));
      expect(reserialised).not.toBe(raw);
      expect(JSON.parse(reserialised)).toEqual(JSON.parse(raw));
      const refused = await postWhatsApp(app, reserialised, signature);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: 'invalid_signature' });
      expect(await count(app, 'webhook_receipts')).toBe(before + 1);

      await settledReceipts(app);
      const row = (
        await app.db.query<{
          tenant_id: string;
          sender: string;
          sender_name: string;
          type: string;
          text: string;
        }>('SELECT tenant_id, sender, sender_name, type, text FROM inbound_messages WHERE external_id = $1', [
          (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!.value
            .messages[0]!.id,
        ])
      ).rows[0];
      expect(row).toEqual({
        tenant_id: 'acme',
        sender: '994501234567',
        sender_name: 'Aysel',
        type: 'text',
        text: AZ_TEXT,
      });
    });

    it('a correctly signed empty body is 400 bad_request (authenticated, not JSON), as docs/webhooks.md says', async () => {
      const before = await count(app, 'webhook_receipts');
      const r = await postWhatsApp(app, '', signWhatsAppBody('', CANARIES.WHATSAPP_APP_SECRET!));
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({ error: 'bad_request' });
      expect(await count(app, 'webhook_receipts')).toBe(before);
      const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8').replace(
        /\s+/g,
        ' ',
      );
      expect(doc).toContain(
        'An empty body correctly signed with the app secret passes this step and is refused at step 3 (400 `bad_request`)',
      );
      expect(doc).not.toMatch(/wrong digest, empty body → 401/);
    });

    it('acceptance 2: the negative signature table answers 401 invalid_signature each and stores nothing', async () => {
      const payload = inbound('approve order 123');
      const { raw, signature } = metaSigned(payload);
      const hex = signature.slice('sha256='.length);
      const cases: [string, string | Buffer, string | undefined][] = [
        ['missing header', raw, undefined],
        [
          'sha1= prefix',
          raw,
          `sha1=${createHmac('sha1', CANARIES.WHATSAPP_APP_SECRET!).update(raw).digest('hex')}`,
        ],
        ['63 hex digits', raw, `sha256=${hex.slice(0, 63)}`],
        ['non-hex', raw, `sha256=${'z'.repeat(64)}`],
        ['wrong digest (other key)', raw, signWhatsAppBody(raw, 'not-the-app-secret')],
        ['empty body with the signature of another body', '', signature],
        ['empty header', raw, ''],
        ['digest without prefix', raw, hex],
        ['65 hex digits', raw, `sha256=${hex}0`],
      ];
      const before = {
        receipts: await count(app, 'webhook_receipts'),
        inbound: await count(app, 'inbound_messages'),
      };
      for (const [name, body, header] of cases) {
        const r = await postWhatsApp(app, body, header);
        expect(r.statusCode, name).toBe(401);
        expect(r.json(), name).toMatchObject({ error: 'invalid_signature' });
      }
      expect(await count(app, 'webhook_receipts')).toBe(before.receipts);
      expect(await count(app, 'inbound_messages')).toBe(before.inbound);
    });

    it('an oversized body is refused with 413 before any HMAC is computed, and stored nowhere', async () => {
      const { raw, signature } = metaSigned(inbound('x'.repeat(LIMIT)));
      expect(Buffer.byteLength(raw)).toBeGreaterThan(LIMIT);
      const before = { hmacs, receipts: await count(app, 'webhook_receipts') };
      const r = await postWhatsApp(app, raw, signature);
      expect(r.statusCode).toBe(413);
      expect(r.json()).toMatchObject({ error: 'payload_too_large' });
      expect(hmacs).toBe(before.hmacs);
      expect(await count(app, 'webhook_receipts')).toBe(before.receipts);
      // The spy does count a body just under the limit: it is the same code path.
      const small = metaSigned(inbound('hello'));
      expect((await postWhatsApp(app, small.raw, small.signature)).statusCode).toBe(200);
      expect(hmacs).toBe(before.hmacs + 1);
    });

    it('a chunked body without Content-Length that grows over the limit is refused with 413 while reading, before any HMAC', async () => {
      const base = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
      const { raw, signature } = metaSigned(inbound('x'.repeat(LIMIT)));
      const bytes = Buffer.from(raw);
      const chunks = [bytes.subarray(0, 1024), bytes.subarray(1024, 3072), bytes.subarray(3072)];
      const before = { hmacs, receipts: await count(app, 'webhook_receipts') };
      const r = await postChunked(
        base,
        '/webhooks/whatsapp',
        { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        chunks,
      );
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'payload_too_large' });
      expect(hmacs).toBe(before.hmacs);
      expect(await count(app, 'webhook_receipts')).toBe(before.receipts);
      // The same chunked transfer under the limit is read whole and accepted.
      const small = metaSigned(inbound('chunked but small'));
      const ok = await postChunked(
        base,
        '/webhooks/whatsapp',
        { 'content-type': 'application/json', 'x-hub-signature-256': small.signature },
        [Buffer.from(small.raw.slice(0, 100)), Buffer.from(small.raw.slice(100))],
      );
      expect(ok.status, ok.body).toBe(200);
      expect(hmacs).toBe(before.hmacs + 1);
    });

    it('raw UTF-8 (not \\u-escaped) signed over its bytes is accepted and stored as the same text', async () => {
      const payload = inbound(AZ_TEXT);
      const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
      // Multi-byte characters as they are: the signature covers UTF-8 bytes, not a re-encoding.
      expect(bytes.length).toBeGreaterThan(JSON.stringify(payload).length);
      expect(bytes.includes(Buffer.from('ə', 'utf8'))).toBe(true);
      const res = await postWhatsApp(app, bytes, signWhatsAppBody(bytes, CANARIES.WHATSAPP_APP_SECRET!));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: false });
      await settledReceipts(app);
      const id = (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!
        .value.messages[0]!.id;
      expect(
        (await app.db.query('SELECT tenant_id, text FROM inbound_messages WHERE external_id = $1', [id]))
          .rows,
      ).toEqual([{ tenant_id: 'acme', text: AZ_TEXT }]);
      // The delivery itself is kept byte for byte as received.
      expect(
        (await app.db.query('SELECT body FROM webhook_receipts WHERE body LIKE $1', [`%${id}%`])).rows,
      ).toEqual([{ body: bytes.toString('utf8') }]);
    });

    it('a valid signature over malformed JSON (or non-object JSON) is 400 and stored nowhere', async () => {
      const before = await count(app, 'webhook_receipts');
      for (const body of [
        '{"object":"whatsapp_business_account",',
        '[1,2,3]',
        'null',
        Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      ]) {
        const r = await postWhatsApp(app, body, signWhatsAppBody(body, CANARIES.WHATSAPP_APP_SECRET!));
        expect(r.statusCode, String(body)).toBe(400);
        expect(r.json()).toMatchObject({ error: 'bad_request' });
      }
      expect(await count(app, 'webhook_receipts')).toBe(before);
    });

    it('acceptance 3 (WhatsApp): the same payload delivered 3 times is stored once; a re-serialised re-delivery of the message is recorded once too', async () => {
      const payload = inbound('Masa 4 üçün 2 nəfər');
      const id = (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!
        .value.messages[0]!.id;
      const { raw, signature } = metaSigned(payload);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await postWhatsApp(app, raw, signature)).json());
      expect(answers).toEqual([
        { received: true, duplicate: false },
        { received: true, duplicate: true },
        { received: true, duplicate: true },
      ]);
      // Different bytes, same message (as if Meta had re-encoded it): a second delivery, one message.
      const other = JSON.stringify(payload, null, 1);
      expect(
        (await postWhatsApp(app, other, signWhatsAppBody(other, CANARIES.WHATSAPP_APP_SECRET!))).statusCode,
      ).toBe(200);
      await settledReceipts(app);
      expect(await count(app, 'webhook_receipts', `body LIKE '%' || $1 || '%'`, [id])).toBe(2);
      expect(await count(app, 'inbound_messages', 'external_id = $1', [id])).toBe(1);
      expect(
        await count(app, 'audit_events', `entity = 'inbound' AND detail->>'externalId' = $1`, [id]),
      ).toBe(1);
    });

    it('the env number routes to the demo tenant; an unknown phone_number_id is answered 200, recorded unroutable (metric + log), and no tenant sees it', async () => {
      const unroutable = async () =>
        (await app.rt.metrics.webhookUnroutable.get()).values.find((v) => v.labels.provider === 'whatsapp')
          ?.value ?? 0;
      const before = await unroutable();
      const demo = inbound('Salam', PHONE_ID);
      const stranger = inbound('Salam', '999888777666');
      const stray = buildStatusPayload({
        phoneNumberId: '999888777666',
        wamid: newWamid(),
        status: 'delivered',
        recipientId: '994501234567',
        timestamp: ++ts,
      });
      for (const p of [demo, stranger, stray]) {
        const { raw, signature } = metaSigned(p);
        expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(200);
      }
      await settledReceipts(app);
      const tenants = await app.db.query<{ tenant_id: string | null }>(
        'SELECT tenant_id FROM inbound_messages WHERE external_id = ANY($1) ORDER BY tenant_id NULLS LAST',
        [
          [demo, stranger].map(
            (p) =>
              (p.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!.value
                .messages[0]!.id,
          ),
        ],
      );
      expect(tenants.rows.map((r) => r.tenant_id)).toEqual(['demo', null]);
      expect(await unroutable()).toBe(before + 2);
      await waitFor(
        async () => app.logs.parsed().filter((l) => String(l.msg).includes('no tenant owns')).length >= 2,
      );
      expect(await count(app, 'whatsapp_status_events', 'true')).toBe(0);
      const list = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/inbound?provider=whatsapp&limit=200' })
      ).json() as { items: { externalId: string }[] };
      expect(list.items.map((i) => i.externalId)).not.toContain(
        (stranger.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!.value
          .messages[0]!.id,
      );
    });

    it('the raw-body parser is scoped to the webhook routes: ordinary JSON routes still parse JSON and refuse bad JSON with 400', async () => {
      const bad = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        headers: { 'content-type': 'application/json' },
        payload: '{"channel":',
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'bad_request' });
      const ok = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { channel: 'email', target: 'a@b.az', body: 'x' },
      });
      expect(ok.statusCode).toBe(202);
    });
  });
}
