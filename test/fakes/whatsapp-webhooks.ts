import { createHmac, randomBytes } from 'node:crypto';

/**
 * WhatsApp webhook payloads (PROVIDERS.md section 3), Meta-style raw JSON, and the
 * X-Hub-Signature-256 signature. Exported for tests that post webhooks without the fake.
 */

export const DEFAULT_WABA_ID = '102290129340398';
export const DEFAULT_DISPLAY_PHONE_NUMBER = '15550783881';

export type WhatsAppStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface WhatsAppStatusError {
  code: number;
  title: string;
  message?: string;
  error_data?: { details: string };
  href?: string;
}

export interface WebhookMetadataOptions {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  wabaId?: string;
}

export interface StatusPayloadOptions extends WebhookMetadataOptions {
  wamid: string;
  status: WhatsAppStatus;
  /** The phone (wa_id); left out when the message went to a BSUID whose phone Meta withholds. */
  recipientId?: string;
  /** 2026: the recipient's business-scoped user id (whatsapp-2026-overlay.ts, status.recipient_user_id). */
  recipientUserId?: string;
  /** 2026: Meta's pricing object (overlay status.pricing). */
  pricing?: { billable: boolean; pricing_model: string; category: string; type?: string };
  /** Epoch seconds; sent as a string like Meta does. */
  timestamp: number | string;
  errors?: WhatsAppStatusError[];
  bizOpaqueCallbackData?: string;
}

export interface InboundPayloadOptions extends WebhookMetadataOptions {
  /** The phone (wa_id); a username customer may come without one (overlay inbound.contacts). */
  from?: string;
  userId?: string;
  parentUserId?: string;
  username?: string;
  text: string;
  /** Defaults to a fresh wamid. */
  id?: string;
  timestamp: number | string;
  profileName?: string;
}

/** The `failed` error Meta reports when no error list is given to a failed status. */
export const DEFAULT_FAILED_ERROR: WhatsAppStatusError = {
  code: 131026,
  title: 'Message undeliverable',
  message: 'Message undeliverable',
  error_data: { details: 'Message Undeliverable.' },
  href: '/documentation/business-messaging/whatsapp/support/error-codes',
};

export function newWamid(): string {
  return `wamid.HBgL${randomBytes(30).toString('base64url')}`;
}

function envelope(o: WebhookMetadataOptions, value: Record<string, unknown>): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: o.wabaId ?? DEFAULT_WABA_ID,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: o.displayPhoneNumber ?? DEFAULT_DISPLAY_PHONE_NUMBER,
                phone_number_id: o.phoneNumberId,
              },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

export function buildStatusPayload(o: StatusPayloadOptions): Record<string, unknown> {
  const status: Record<string, unknown> = {
    id: o.wamid,
    status: o.status,
    timestamp: String(o.timestamp),
  };
  if (o.recipientId !== undefined) status.recipient_id = o.recipientId;
  if (o.recipientUserId !== undefined) status.recipient_user_id = o.recipientUserId;
  if (o.pricing !== undefined && o.status !== 'failed') status.pricing = o.pricing;
  if (o.bizOpaqueCallbackData !== undefined) status.biz_opaque_callback_data = o.bizOpaqueCallbackData;
  if (o.status === 'failed') status.errors = o.errors ?? [DEFAULT_FAILED_ERROR];
  else if (o.errors) status.errors = o.errors;
  return envelope(o, { statuses: [status] });
}

export function buildInboundPayload(o: InboundPayloadOptions): Record<string, unknown> {
  const profile: Record<string, unknown> = { name: o.profileName ?? 'Test Customer' };
  if (o.username !== undefined) profile.username = o.username;
  const contact: Record<string, unknown> = { profile };
  if (o.from !== undefined) contact.wa_id = o.from;
  if (o.userId !== undefined) contact.user_id = o.userId;
  if (o.parentUserId !== undefined) contact.parent_user_id = o.parentUserId;
  return envelope(o, {
    contacts: [contact],
    messages: [
      {
        ...(o.from !== undefined ? { from: o.from } : {}),
        ...(o.userId !== undefined ? { from_user_id: o.userId } : {}),
        id: o.id ?? newWamid(),
        timestamp: String(o.timestamp),
        type: 'text',
        text: { body: o.text },
      },
    ],
  });
}

/**
 * JSON as Meta writes webhook bodies: every non-ASCII UTF-16 unit escaped as \uXXXX (lower-case
 * hex, surrogate pairs as two escapes). Receivers must verify the HMAC over these raw bytes;
 * re-serialising the parsed object with JSON.stringify would not reproduce them.
 */
export function toMetaJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The X-Hub-Signature-256 header value: `sha256=<hex HMAC-SHA256(raw body, app secret)>`. */
export function signWhatsAppBody(rawBody: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export interface SystemChangeOptions extends WebhookMetadataOptions {
  kind: 'user_changed_number' | 'user_changed_user_id';
  /** The old phone (from) and/or old BSUID. */
  from?: string;
  fromUserId?: string;
  /**
   * Where the old BSUID goes: 'system' (system.previous_user_id, Meta's payload since August 2026,
   * the default) or 'message' (messages[].from_user_id, as earlier BSP notes described it).
   */
  oldUserIdIn?: 'system' | 'message';
  fromParentUserId?: string;
  /** user_changed_number: the new wa_id; either kind: the new BSUID. */
  newWaId?: string;
  newUserId?: string;
  id?: string;
  timestamp: number | string;
}

/** A system message (overlay system.user_changed_number / system.user_changed_user_id): no contacts array. */
export function buildSystemChangePayload(o: SystemChangeOptions): Record<string, unknown> {
  const system: Record<string, unknown> = {
    body:
      o.kind === 'user_changed_number'
        ? `User changed from ${o.from ?? '?'} to ${o.newWaId ?? '?'}`
        : 'User changed their business-scoped user ID',
    type: o.kind,
  };
  if (o.newWaId !== undefined) system.wa_id = o.newWaId;
  if (o.newUserId !== undefined) system.user_id = o.newUserId;
  const onMessage = o.oldUserIdIn === 'message';
  if (!onMessage && o.fromUserId !== undefined) system.previous_user_id = o.fromUserId;
  if (!onMessage && o.fromParentUserId !== undefined) system.previous_parent_user_id = o.fromParentUserId;
  return envelope(o, {
    messages: [
      {
        ...(o.from !== undefined ? { from: o.from } : {}),
        ...(onMessage && o.fromUserId !== undefined ? { from_user_id: o.fromUserId } : {}),
        id: o.id ?? newWamid(),
        timestamp: String(o.timestamp),
        type: 'system',
        system,
      },
    ],
  });
}
