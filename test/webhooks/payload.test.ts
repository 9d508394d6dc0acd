import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyMetaSignature, verifyTelegramSecret } from '../../src/webhooks/signature.ts';
import { parseTelegramUpdate, startPayload } from '../../src/webhooks/telegram-update.ts';
import { parseWhatsAppPayload } from '../../src/webhooks/whatsapp-payload.ts';
import { buildStatusPayload } from '../fakes/whatsapp-cloud.ts';

describe('parseWhatsAppPayload', () => {
  // PROVIDERS.md section 3 examples.
  const inbound = {
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
      messages: [{ from: '16505551234', id: 'wamid.HBgL1', timestamp: '1749416383', type: 'text', text: { body: 'Does it come in another color?' } }],
    } }] }],
  };

  it('reads an inbound text with its sender name, number id and time', () => {
    const p = parseWhatsAppPayload(inbound);
    expect(p.statuses).toEqual([]);
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]).toMatchObject({ phoneNumberId: '106540352242922', id: 'wamid.HBgL1', from: '16505551234', senderName: 'Sheena Nelson', type: 'text', text: 'Does it come in another color?', sentAt: new Date(1749416383_000) });
  });

  it('reads a failed status with its errors; skips statuses it does not track and malformed entries', () => {
    const failed = buildStatusPayload({ phoneNumberId: '1', wamid: 'wamid.X', status: 'failed', recipientId: '16505551234', timestamp: 1750857384, errors: [{ code: 131047, title: 'Re-engagement message', error_data: { details: '24 h' } }] });
    const value = (failed.entry as { changes: { value: { statuses: unknown[] } }[] }[])[0]!.changes[0]!.value;
    value.statuses.push({ id: 'wamid.Y', status: 'deleted', timestamp: '1', recipient_id: '1' }, { status: 'read' }, 'junk', null);
    const p = parseWhatsAppPayload(failed);
    expect(p.statuses).toEqual([{ phoneNumberId: '1', wamid: 'wamid.X', status: 'failed', recipientId: '16505551234', occurredAt: new Date(1750857384_000), errors: [{ code: 131047, title: 'Re-engagement message', message: null, details: '24 h' }] }]);
    expect(p.skipped).toBe(1);
  });

  it('never throws on shapes it does not know', () => {
    for (const body of [null, 1, 'x', [], {}, { entry: 'x' }, { entry: [{ changes: [null, { value: 3 }, { field: 'account_update', value: { messages: [{ id: 'a', from: 'b' }] } }] }] }]) {
      expect(parseWhatsAppPayload(body)).toEqual({ messages: [], statuses: [], skipped: 0 });
    }
  });

  it('takes the readable text of buttons, interactive replies, reactions and captions', () => {
    const msg = (m: Record<string, unknown>) => parseWhatsAppPayload({ entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: '1' }, messages: [{ from: '1', id: 'i', timestamp: '1', ...m }] } }] }] }).messages[0]!;
    expect(msg({ type: 'button', button: { text: 'Yes', payload: 'Y' } })).toMatchObject({ type: 'button', text: 'Yes' });
    expect(msg({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'x', title: 'Kebab' } } })).toMatchObject({ type: 'interactive', text: 'Kebab' });
    expect(msg({ type: 'reaction', reaction: { message_id: 'm', emoji: '👍' } })).toMatchObject({ text: '👍' });
    expect(msg({ type: 'image', image: { id: 'm', caption: 'menu' } })).toMatchObject({ type: 'image', text: 'menu' });
    expect(msg({ type: 'Weird Type!' })).toMatchObject({ type: 'unknown', text: null });
  });
});

describe('parseTelegramUpdate and /start payloads', () => {
  it('reads messages, commands, callback queries and other update kinds; ids beyond 32 bits stay exact', () => {
    const big = 2 ** 40 + 7;
    expect(parseTelegramUpdate({ update_id: 1, message: { message_id: 1, date: 1750000000, from: { id: big, first_name: 'Ana', language_code: 'ru' }, chat: { id: big, type: 'private' }, text: '/start abc', entities: [{ offset: 0, length: 6, type: 'bot_command' }] } })).toMatchObject({
      updateId: '1', kind: 'message', chatId: String(big), senderId: String(big), senderName: 'Ana', languageCode: 'ru', type: 'command', text: '/start abc',
    });
    expect(parseTelegramUpdate({ update_id: 2, callback_query: { id: 'q', from: { id: 5, first_name: 'B' }, data: 'approve:1', message: { chat: { id: 6 } } } })).toMatchObject({ kind: 'callback_query', chatId: '6', senderId: '5', type: 'callback_query', text: 'approve:1' });
    expect(parseTelegramUpdate({ update_id: 3, message: { chat: { id: 7 }, photo: [], caption: 'look' } })).toMatchObject({ type: 'photo', text: 'look' });
    expect(parseTelegramUpdate({ update_id: 4, my_chat_member: {} })).toMatchObject({ kind: 'my_chat_member', type: 'other', chatId: null });
    expect(parseTelegramUpdate({ message: {} })).toBeNull();
    expect(parseTelegramUpdate({ update_id: -1 })).toBeNull();
  });

  it('parses /start with and without a payload, and with the bot name', () => {
    expect(startPayload('/start abc_DEF-123')).toEqual({ payload: 'abc_DEF-123' });
    expect(startPayload('/start@mupzaos_bot abc')).toEqual({ payload: 'abc' });
    expect(startPayload('/start')).toEqual({ payload: null });
    expect(startPayload('/started x')).toBeNull();
    expect(startPayload('hello /start x')).toBeNull();
    expect(startPayload(null)).toBeNull();
  });
});

describe('signature checks', () => {
  const raw = Buffer.from('{"a":"\\u0259"}');
  const hex = createHmac('sha256', 'app-secret').update(raw).digest('hex');

  it('accepts the exact digest (either hex case) and refuses everything else without an HMAC for malformed headers', () => {
    let hmacs = 0;
    const check = (h: string | string[] | undefined, secret: string | null = 'app-secret') => verifyMetaSignature(raw, h, secret ?? undefined, () => hmacs++);
    expect(check(`sha256=${hex}`)).toBe(true);
    expect(check(`sha256=${hex.toUpperCase()}`)).toBe(true);
    expect(hmacs).toBe(2);
    for (const h of [undefined, '', `sha1=${hex.slice(0, 40)}`, `sha256=${hex.slice(1)}`, `sha256=${'g'.repeat(64)}`, [`sha256=${hex}`], `sha256= ${hex}`]) expect(check(h)).toBe(false);
    expect(hmacs).toBe(2);
    expect(check(`sha256=${hex}`, null)).toBe(false);
    expect(check(`sha256=${'0'.repeat(64)}`)).toBe(false);
  });

  it('Telegram: both secrets must match; an unset secret refuses everything', () => {
    expect(verifyTelegramSecret('s3cret', 's3cret', 's3cret')).toBe(true);
    expect(verifyTelegramSecret('s3cret', undefined, 's3cret')).toBe(false);
    expect(verifyTelegramSecret(undefined, 's3cret', 's3cret')).toBe(false);
    expect(verifyTelegramSecret('s3cret', ['s3cret'], 's3cret')).toBe(false);
    expect(verifyTelegramSecret('', '', undefined)).toBe(false);
  });
});
