import { clip, fromRule, type Classified, type Rule } from './classify.ts';

/**
 * Telegram Bot API errors (docs/providers.md, "Telegram Bot API"). `error_code` is the HTTP status; the
 * description is informational only. Flood control sends `parameters.retry_after` in seconds in the
 * body; there is no Retry-After header contract.
 */
export const TELEGRAM_RULES: Readonly<Record<number, Rule>> = {
  400: { class: 'permanent', meaning: 'bad request (chat not found, message too long, bad HTML)' },
  401: { class: 'permanent', meaning: 'unauthorized: the bot token is wrong or revoked' },
  // The user blocked the bot (or the bot was kicked): an explicit opt-out, not a failure to retry.
  403: {
    class: 'permanent',
    meaning: 'forbidden: the bot was blocked by the user or removed from the chat',
    finalStatus: 'blocked',
  },
  404: { class: 'permanent', meaning: 'not found: wrong method or token' },
  409: { class: 'permanent', meaning: 'conflict' },
  429: { class: 'rate_limited', meaning: 'flood control', defaultWaitMs: 1_000 },
};

interface TelegramFailure {
  ok?: unknown;
  error_code?: unknown;
  description?: unknown;
  parameters?: { retry_after?: unknown; migrate_to_chat_id?: unknown };
}

export function classifyTelegram(status: number, body: unknown): Classified {
  const b = (body && typeof body === 'object' ? body : {}) as TelegramFailure;
  const code = typeof b.error_code === 'number' ? b.error_code : status;
  const retryAfter =
    typeof b.parameters?.retry_after === 'number' && b.parameters.retry_after >= 0
      ? b.parameters.retry_after * 1000
      : undefined;
  const migrated = b.parameters?.migrate_to_chat_id;
  const text = `${clip(b.description) || `HTTP ${status}`}${migrated !== undefined ? ` (the group moved to chat ${clip(migrated, 30)})` : ''}`;
  const detail = {
    message: `${text} (error_code ${code})`,
    httpStatus: status,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  };
  const rule: Rule =
    TELEGRAM_RULES[code] ??
    (code >= 500
      ? { class: 'retryable', meaning: 'server error' }
      : { class: 'permanent', meaning: 'rejected' });
  return fromRule('telegram', code, rule, detail);
}
