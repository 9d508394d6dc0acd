import { z } from 'zod';
import { LOCALES } from '../core/templates.ts';

export const SOURCE_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export const EnqueueBody = z
  .object({
    channel: z.string().max(40),
    target: z.string().min(1).max(320),
    body: z.string().min(1).max(100_000).optional(),
    title: z.string().min(1).max(200).optional(),
    subject: z.string().min(1).max(300).optional(),
    template: z.string().min(1).max(100).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    source: z.string().regex(SOURCE_RE, 'lowercase letters, digits, _ . - (max 64)').default('api'),
    sendAt: z.iso.datetime({ offset: true }).optional(),
    locale: z.enum(LOCALES).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();
export type EnqueueInput = z.infer<typeof EnqueueBody>;

export const BatchBody = z.object({ messages: z.array(EnqueueBody).min(1).max(1_000) }).strict();

export const ListQuery = z
  .object({
    status: z.string().max(20).optional(),
    channel: z.string().max(20).optional(),
    source: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const PolicyBody = z
  .object({
    optIns: z
      .object({
        otp_sms: z.boolean().optional(),
        whatsapp: z.boolean().optional(),
        telegram: z.boolean().optional(),
        email: z.boolean().optional(),
        in_app: z.boolean().optional(),
      })
      .strict(),
  })
  .strict();

/** Per-channel body limits (characters after template rendering). */
export const BODY_LIMITS = {
  otp_sms: 160,
  whatsapp: 4096,
  telegram: 4096,
  email: 100_000,
  in_app: 2_000,
} as const;

/**
 * Bytes one enqueue body may take, so the longest documented message of any channel fits: its
 * characters at 6 bytes each (a JSON-escaped control character, the worst case; Cyrillic is 2 and ₼
 * 3), plus 64 KiB for target, title, subject and template data. The channel's own character limit
 * is then checked on the parsed text (400 validation_failed, not 413).
 */
export const MESSAGE_BODY_LIMIT_BYTES = Math.max(...Object.values(BODY_LIMITS)) * 6 + 65_536;
