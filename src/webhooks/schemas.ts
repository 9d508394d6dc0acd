import { z } from 'zod';

/** Request and response shapes of the webhook-area API (also used for the OpenAPI document). */
export const InboundQuery = z
  .object({
    provider: z.enum(['whatsapp', 'telegram']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const InboundItem = z.object({
  id: z.uuid(),
  provider: z.enum(['whatsapp', 'telegram']),
  externalId: z.string(),
  sender: z.string(),
  senderName: z.string().nullable(),
  type: z.string(),
  text: z.string().nullable(),
  sentAt: z.string().nullable(),
  receivedAt: z.string(),
  processedAt: z.string(),
});
export const InboundDetail = InboundItem.extend({ raw: z.unknown() });
export const InboundPage = z.object({ items: z.array(InboundItem), nextCursor: z.string().nullable() });
export const InboundParams = z.object({ id: z.uuid() });

export const TelegramLinkBody = z.object({}).strict();

/**
 * What Meta posts to the WhatsApp webhook (documentation only: the raw bytes are verified and
 * stored as sent; unknown fields are expected and kept).
 */
export const WhatsAppWebhookBody = z
  .object({
    object: z.string().describe('"whatsapp_business_account"'),
    entry: z.array(
      z
        .object({
          id: z.string().describe('WhatsApp Business Account id'),
          changes: z.array(
            z
              .object({
                field: z.string().describe('"messages"'),
                value: z
                  .object({})
                  .loose()
                  .describe('messaging_product, metadata, contacts, messages, statuses, errors'),
              })
              .loose(),
          ),
        })
        .loose(),
    ),
  })
  .loose();

/** A Telegram Update (documentation only, as above); an integer update_id is required. */
export const TelegramUpdateBody = z
  .object({
    update_id: z.number().int(),
    message: z.object({}).loose().optional(),
    edited_message: z.object({}).loose().optional(),
    channel_post: z.object({}).loose().optional(),
    my_chat_member: z.object({}).loose().optional(),
  })
  .loose();
export const TelegramLinkAnswer = z.object({
  token: z.string(),
  /** https://t.me/<bot>?start=<token>, or null when TELEGRAM_BOT_USERNAME is not configured. */
  url: z.string().nullable(),
  expiresAt: z.string(),
});

export const WebhookAck = z.object({ received: z.literal(true), duplicate: z.boolean() });

export const WhatsAppVerifyQuery = z.object({
  'hub.mode': z.string().optional(),
  'hub.verify_token': z.string().optional(),
  'hub.challenge': z.string().optional(),
});

export const WhatsAppUsageQuery = z
  .object({
    month: z
      .string()
      .regex(/^20\d{2}-(0[1-9]|1[0-2])$/, 'a month like 2026-12')
      .optional()
      .describe('Calendar month (UTC), YYYY-MM; the current month when left out'),
  })
  .strict();
export const WhatsAppUsage = z.object({
  month: z.string(),
  counts: z.array(z.object({ category: z.string(), billable: z.boolean(), messages: z.number().int() })),
  totals: z.object({ billable: z.number().int(), free: z.number().int() }),
  estimate: z.object({
    currency: z.literal('AZN'),
    /** null when no price table is configured (WHATSAPP_PRICE_TABLE_AZN). */
    estimatedAzn: z.number().nullable(),
    unpricedCategories: z.array(z.string()),
  }),
  /** The tenant's WHATSAPP_MONTHLY_CAP against this month's billable count; null without a cap. */
  cap: z.object({ limit: z.number().int(), used: z.number().int(), percent: z.number() }).nullable(),
});
