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
  recipientId: string;
  /** Epoch seconds; sent as a string like Meta does. */
  timestamp: number | string;
  errors?: WhatsAppStatusError[];
  bizOpaqueCallbackData?: string;
}

export interface InboundPayloadOptions extends WebhookMetadataOptions {
  from: string;
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
    recipient_id: o.recipientId,
  };
  if (o.bizOpaqueCallbackData !== undefined) status.biz_opaque_callback_data = o.bizOpaqueCallbackData;
  if (o.status === 'failed') status.errors = o.errors ?? [DEFAULT_FAILED_ERROR];
  else if (o.errors) status.errors = o.errors;
  return envelope(o, { statuses: [status] });
}

export function buildInboundPayload(o: InboundPayloadOptions): Record<string, unknown> {
  return envelope(o, {
    contacts: [{ profile: { name: o.profileName ?? 'Test Customer' }, wa_id: o.from }],
    messages: [
      {
        from: o.from,
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
