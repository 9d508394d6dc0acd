import type { ValidateFunction } from 'ajv';
import { createAjv, describeAjvErrors } from './ajv.ts';
import { isPlainObject } from './http-fake-base.ts';
import { RECIPIENT_PROPERTY } from './whatsapp-2026-overlay.ts';

/**
 * Hand-written, relaxed schema for the subset of sendMessage bodies we send (text and template).
 * The spec's own `Message` schema rejects its own examples (see vendor/provider-specs/README.md), so it is
 * not used as a gate; the spec's examples are golden fixtures in whatsapp-cloud.test.ts instead.
 */

const common = {
  messaging_product: { const: 'whatsapp' },
  recipient_type: { const: 'individual' },
  // Digits as WhatsApp ids are; a leading + is tolerated like the Cloud API does.
  to: { type: 'string', pattern: '^\\+?[0-9]{5,20}$' },
  // 2026 (whatsapp-2026-overlay.ts, send.recipient): a BSUID or parent BSUID instead of `to`.
  recipient: RECIPIENT_PROPERTY,
  biz_opaque_callback_data: { type: 'string', maxLength: 512 },
  context: {
    type: 'object',
    required: ['message_id'],
    properties: { message_id: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
} as const;

// Parameters stay open: currency, date_time, image, ... each carry their own object.
const parameter = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1 }, text: { type: 'string', minLength: 1 } },
};

const component = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: ['header', 'body', 'button', 'footer', 'carousel', 'limited_time_offer'] },
    sub_type: { type: 'string' },
    index: { type: ['string', 'integer'] },
    parameters: { type: 'array', items: parameter },
  },
};

export const WHATSAPP_TEXT_SCHEMA = {
  type: 'object',
  required: ['messaging_product', 'type', 'text'],
  anyOf: [{ required: ['to'] }, { required: ['recipient'] }],
  additionalProperties: false,
  properties: {
    ...common,
    type: { const: 'text' },
    text: {
      type: 'object',
      required: ['body'],
      additionalProperties: false,
      properties: {
        body: { type: 'string', minLength: 1, maxLength: 4096 },
        preview_url: { type: 'boolean' },
      },
    },
  },
} as const;

export const WHATSAPP_TEMPLATE_SCHEMA = {
  type: 'object',
  required: ['messaging_product', 'type', 'template'],
  anyOf: [{ required: ['to'] }, { required: ['recipient'] }],
  additionalProperties: false,
  properties: {
    ...common,
    type: { const: 'template' },
    template: {
      type: 'object',
      required: ['name', 'language'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 512 },
        language: {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: { code: { type: 'string', minLength: 1 }, policy: { const: 'deterministic' } },
        },
        components: { type: 'array', items: component },
      },
    },
  },
} as const;

const ajv = createAjv();
const validators: Record<'text' | 'template', ValidateFunction> = {
  text: ajv.compile(WHATSAPP_TEXT_SCHEMA),
  template: ajv.compile(WHATSAPP_TEMPLATE_SCHEMA),
};

export type WhatsAppMessageKind = 'text' | 'template';

/** Validates a parsed sendMessage body; returns the kind or a problem description. */
export function validateWhatsAppMessage(body: unknown): { kind: WhatsAppMessageKind } | { problem: string } {
  if (!isPlainObject(body)) return { problem: 'body must be a JSON object' };
  const kind = body.type;
  if (kind !== 'text' && kind !== 'template')
    return { problem: `unsupported message type ${JSON.stringify(kind)}` };
  const validate = validators[kind];
  return validate(body) ? { kind } : { problem: describeAjvErrors(validate.errors) };
}
