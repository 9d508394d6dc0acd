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
    entry: [
      {
        id: '1',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
              messages: [
                {
                  from: '16505551234',
                  id: 'wamid.HBgL1',
                  timestamp: '1749416383',
                  type: 'text',
                  text: { body: 'Does it come in another color?' },
                },
              ],
            },
          },
        ],
      },
    ],
  };

  it('reads an inbound text with its sender name, number id and time', () => {
    const p = parseWhatsAppPayload(inbound);
    expect(p.statuses).toEqual([]);
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]).toMatchObject({
      phoneNumberId: '106540352242922',
      id: 'wamid.HBgL1',
      from: '16505551234',
      senderName: 'Sheena Nelson',
      type: 'text',
      text: 'Does it come in another color?',
      sentAt: new Date(1749416383_000),
    });
  });

  it('reads a failed status with its errors; skips statuses it does not track and malformed entries', () => {
    const failed = buildStatusPayload({
      phoneNumberId: '1',
      wamid: 'wamid.X',
      status: 'failed',
      recipientId: '16505551234',
      timestamp: 1750857384,
      errors: [{ code: 131047, title: 'Re-engagement message', error_data: { details: '24 h' } }],
    });
    const value = (failed.entry as { changes: { value: { statuses: unknown[] } }[] }[])[0]!.changes[0]!.value;
    value.statuses.push(
      { id: 'wamid.Y', status: 'deleted', timestamp: '1', recipient_id: '1' },
      { status: 'read' },
      'junk',
      null,
    );
    const p = parseWhatsAppPayload(failed);
    expect(p.statuses).toEqual([
      {
        phoneNumberId: '1',
        wamid: 'wamid.X',
        status: 'failed',
        recipientId: '16505551234',
        recipientUserId: null,
        pricing: null,
        occurredAt: new Date(1750857384_000),
        errors: [{ code: 131047, title: 'Re-engagement message', message: null, details: '24 h' }],
      },
    ]);
    expect(p.skipped).toBe(1);
  });

  it('never throws on shapes it does not know', () => {
    for (const body of [
      null,
      1,
      'x',
      [],
      {},
      { entry: 'x' },
      {
        entry: [
          {
            changes: [
              null,
              { value: 3 },
              { field: 'account_update', value: { messages: [{ id: 'a', from: 'b' }] } },
            ],
          },
        ],
      },
    ]) {
      expect(parseWhatsAppPayload(body)).toEqual({
        messages: [],
        identityChanges: [],
        statuses: [],
        skipped: 0,
      });
    }
  });

  it('takes the readable text of buttons, interactive replies, reactions and captions', () => {
    const msg = (m: Record<string, unknown>) =>
      parseWhatsAppPayload({
        entry: [
          {
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: '1' },
                  messages: [{ from: '1', id: 'i', timestamp: '1', ...m }],
                },
              },
            ],
          },
        ],
      }).messages[0]!;
    expect(msg({ type: 'button', button: { text: 'Yes', payload: 'Y' } })).toMatchObject({
      type: 'button',
      text: 'Yes',
    });
    expect(
      msg({
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: 'x', title: 'Kebab' } },
      }),
    ).toMatchObject({ type: 'interactive', text: 'Kebab' });
    expect(msg({ type: 'reaction', reaction: { message_id: 'm', emoji: '👍' } })).toMatchObject({
      text: '👍',
    });
    expect(msg({ type: 'image', image: { id: 'm', caption: 'menu' } })).toMatchObject({
      type: 'image',
      text: 'menu',
    });
    expect(msg({ type: 'Weird Type!' })).toMatchObject({ type: 'unknown', text: null });
  });
});

describe('parseTelegramUpdate and /start payloads', () => {
  it('reads messages, commands, callback queries and other update kinds; ids beyond 32 bits stay exact', () => {
    const big = 2 ** 40 + 7;
    expect(
      parseTelegramUpdate({
        update_id: 1,
        message: {
          message_id: 1,
          date: 1750000000,
          from: { id: big, first_name: 'Ana', language_code: 'ru' },
          chat: { id: big, type: 'private' },
          text: '/start abc',
          entities: [{ offset: 0, length: 6, type: 'bot_command' }],
        },
      }),
    ).toMatchObject({
      updateId: '1',
      kind: 'message',
      chatId: String(big),
      senderId: String(big),
      senderName: 'Ana',
      languageCode: 'ru',
      type: 'command',
      text: '/start abc',
    });
    expect(
      parseTelegramUpdate({
        update_id: 2,
        callback_query: {
          id: 'q',
          from: { id: 5, first_name: 'B' },
          data: 'approve:1',
          message: { chat: { id: 6 } },
        },
      }),
    ).toMatchObject({
      kind: 'callback_query',
      chatId: '6',
      senderId: '5',
      type: 'callback_query',
      text: 'approve:1',
    });
    expect(
      parseTelegramUpdate({ update_id: 3, message: { chat: { id: 7 }, photo: [], caption: 'look' } }),
    ).toMatchObject({ type: 'photo', text: 'look' });
    expect(parseTelegramUpdate({ update_id: 4, my_chat_member: {} })).toMatchObject({
      kind: 'my_chat_member',
      type: 'other',
      chatId: null,
    });
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
    const check = (h: string | string[] | undefined, secret: string | null = 'app-secret') =>
      verifyMetaSignature(raw, h, secret ?? undefined, () => hmacs++);
    expect(check(`sha256=${hex}`)).toBe(true);
    expect(check(`sha256=${hex.toUpperCase()}`)).toBe(true);
    expect(hmacs).toBe(2);
    for (const h of [
      undefined,
      '',
      `sha1=${hex.slice(0, 40)}`,
      `sha256=${hex.slice(1)}`,
      `sha256=${'g'.repeat(64)}`,
      [`sha256=${hex}`],
      `sha256= ${hex}`,
    ])
      expect(check(h)).toBe(false);
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

describe('parseWhatsAppPayload, 2026 fields (test/fakes/whatsapp-2026-overlay.ts)', () => {
  const wrap = (value: Record<string, unknown>) => ({
    entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: '1' }, ...value } }] }],
  });

  it('a username customer without from is read from contacts[].user_id; parent BSUID and username come along', () => {
    const p = parseWhatsAppPayload(
      wrap({
        contacts: [
          {
            profile: { name: 'Sheena', username: 'sheena.n' },
            user_id: 'US.13491208655302741918',
            parent_user_id: 'US.ENT.11815799212886844830',
          },
        ],
        messages: [{ id: 'wamid.B1', timestamp: '1749416383', type: 'text', text: { body: 'Salam' } }],
      }),
    );
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]).toMatchObject({
      from: 'US.13491208655302741918',
      senderName: 'Sheena',
      sender: {
        waId: null,
        userId: 'US.13491208655302741918',
        parentUserId: 'US.ENT.11815799212886844830',
        username: 'sheena.n',
      },
    });
  });

  it('a message with neither phone nor a well-formed BSUID is skipped; a malformed user_id is not taken as one', () => {
    const p = parseWhatsAppPayload(
      wrap({
        contacts: [{ user_id: 'not a bsuid' }],
        messages: [{ id: 'wamid.B2', type: 'text', text: { body: 'x' } }],
      }),
    );
    expect(p.messages).toEqual([]);
  });

  it('reads statuses with recipient_user_id and pricing; junk pricing values become null', () => {
    const st = buildStatusPayload({
      phoneNumberId: '1',
      wamid: 'wamid.P',
      status: 'delivered',
      recipientUserId: 'US.1',
      timestamp: 1,
      pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' },
    });
    expect(parseWhatsAppPayload(st).statuses[0]).toMatchObject({
      recipientId: null,
      recipientUserId: 'US.1',
      pricing: { billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' },
    });
    const bad = buildStatusPayload({
      phoneNumberId: '1',
      wamid: 'wamid.Q',
      status: 'sent',
      recipientId: '1234567',
      timestamp: 1,
      pricing: { billable: 'yes' as unknown as boolean, pricing_model: 'P M P', category: 'x'.repeat(200) },
    });
    expect(parseWhatsAppPayload(bad).statuses[0]!.pricing).toEqual({
      billable: null,
      pricingModel: null,
      category: null,
      type: null,
    });
  });

  it('system messages: user_changed_number and user_changed_user_id become identity changes; other system messages stay messages', () => {
    const p = parseWhatsAppPayload(
      wrap({
        messages: [
          {
            from: '16505551234',
            id: 'wamid.S1',
            timestamp: '1739321024',
            type: 'system',
            system: { body: 'User changed', wa_id: '12195555358', type: 'user_changed_number' },
          },
          {
            from_user_id: 'US.111',
            id: 'wamid.S2',
            timestamp: '1739321024',
            type: 'system',
            system: { user_id: 'US.222', type: 'user_changed_user_id' },
          },
          {
            from: '16505551234',
            id: 'wamid.S3',
            type: 'system',
            system: { type: 'customer_identity_changed' },
          },
          {
            from: '16505551234',
            id: 'wamid.S4',
            type: 'system',
            system: { type: 'user_changed_number', wa_id: 'x' },
          },
        ],
      }),
    );
    expect(p.messages.map((m) => [m.id, m.type])).toEqual([
      ['wamid.S3', 'system'],
      ['wamid.S4', 'system'],
    ]);
    expect(p.identityChanges).toEqual([
      {
        phoneNumberId: '1',
        id: 'wamid.S1',
        kind: 'user_changed_number',
        from: { waId: '16505551234', userId: null, parentUserId: null, username: null },
        to: { waId: '12195555358' },
        at: new Date(1739321024_000),
      },
      {
        phoneNumberId: '1',
        id: 'wamid.S2',
        kind: 'user_changed_user_id',
        from: { waId: null, userId: 'US.111', parentUserId: null, username: null },
        to: { userId: 'US.222' },
        at: new Date(1739321024_000),
      },
    ]);
  });

  it('system messages since August 2026: the old BSUIDs in system.previous_user_id / previous_parent_user_id (no from_user_id, no contacts)', () => {
    const p = parseWhatsAppPayload(
      wrap({
        messages: [
          {
            id: 'wamid.S5',
            timestamp: '1739321024',
            type: 'system',
            system: {
              type: 'user_changed_user_id',
              previous_user_id: 'US.111',
              previous_parent_user_id: 'US.ENT.9',
              user_id: 'US.222',
              parent_user_id: 'US.ENT.8',
            },
          },
          {
            from: '16505551234',
            id: 'wamid.S6',
            timestamp: '1739321024',
            type: 'system',
            system: {
              type: 'user_changed_number',
              wa_id: '12195555358',
              previous_user_id: 'US.333',
              user_id: 'US.444',
            },
          },
        ],
      }),
    );
    expect(p.messages).toEqual([]);
    expect(p.identityChanges).toEqual([
      {
        phoneNumberId: '1',
        id: 'wamid.S5',
        kind: 'user_changed_user_id',
        from: { waId: null, userId: 'US.111', parentUserId: 'US.ENT.9', username: null },
        to: { userId: 'US.222', parentUserId: 'US.ENT.8' },
        at: new Date(1739321024_000),
      },
      {
        phoneNumberId: '1',
        id: 'wamid.S6',
        kind: 'user_changed_number',
        from: { waId: '16505551234', userId: 'US.333', parentUserId: null, username: null },
        to: { waId: '12195555358', userId: 'US.444' },
        at: new Date(1739321024_000),
      },
    ]);
  });
});
