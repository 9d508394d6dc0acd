import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { adapterDeadlineMs, httpCall, TransportError } from '../providers/http.ts';
import type { Queryable } from '../store/driver.ts';
import { saveWebhookRegistration, webhookRegistration } from '../store/sql/webhook-routing.ts';

/** Update kinds the webhook processor records (Telegram sends only these once registered). */
export const TELEGRAM_ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;
const SECRET_PLACEHOLDER = '{TELEGRAM_WEBHOOK_SECRET}';

export class WebhookRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRegistrationError';
  }
}

/** The webhook URL as stored and shown: the secret path segment replaced by its env name. */
export function telegramWebhookUrlShown(config: Config): string | null {
  const base = config.env.BACKEND_PUBLIC_URL;
  if (!base) return null;
  return `${base.replace(/\/+$/, '')}/telegram/webhook/${SECRET_PLACEHOLDER}`;
}

/**
 * Registers BACKEND_PUBLIC_URL/telegram/webhook/<secret> with Telegram's setWebhook, with the same
 * secret as secret_token (sent back in X-Telegram-Bot-Api-Secret-Token), and records that it is
 * registered (URL without the secret) for readiness. Throws WebhookRegistrationError with a
 * scrubbed message on any refusal.
 */
export async function setTelegramWebhook(
  q: Queryable,
  config: Config,
  redactor: Redactor,
): Promise<{ url: string; at: Date }> {
  const { TELEGRAM_BOT_TOKEN: token, TELEGRAM_WEBHOOK_SECRET: secret, BACKEND_PUBLIC_URL: base } = config.env;
  const missing = [
    !token && 'TELEGRAM_BOT_TOKEN',
    !secret && 'TELEGRAM_WEBHOOK_SECRET',
    !base && 'BACKEND_PUBLIC_URL',
  ].filter(Boolean);
  if (!token || !secret || !base) throw new WebhookRegistrationError(`not configured: ${missing.join(', ')}`);
  const url = `${base.replace(/\/+$/, '')}/telegram/webhook/${secret}`;
  let res;
  try {
    res = await httpCall(
      {
        method: 'POST',
        url: `${config.env.TELEGRAM_API_BASE_URL.replace(/\/+$/, '')}/bot${token}/setWebhook`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url, secret_token: secret, allowed_updates: TELEGRAM_ALLOWED_UPDATES }),
        timeoutMs: adapterDeadlineMs(config.env.COMMS_PROVIDER_TIMEOUT_MS),
      },
      redactor,
    );
  } catch (err) {
    if (err instanceof TransportError)
      throw new WebhookRegistrationError(`Telegram not reachable (${err.message})`);
    throw err;
  }
  const j = res.json as { ok?: unknown; description?: unknown } | undefined;
  if (res.status !== 200 || j?.ok !== true) {
    const description = typeof j?.description === 'string' ? j.description : `HTTP ${res.status}`;
    throw new WebhookRegistrationError(
      redactor.scrub(`Telegram refused setWebhook: ${description}`).slice(0, 300),
    );
  }
  const shown = telegramWebhookUrlShown(config)!;
  const at = await saveWebhookRegistration(q, 'telegram', shown);
  return { url: shown, at };
}

/**
 * Readiness view of the webhooks. Telegram counts as registered when set-webhook recorded the URL
 * this configuration would register (a changed BACKEND_PUBLIC_URL needs set-webhook again).
 */
export async function webhookReadiness(q: Queryable, config: Config) {
  const row = await webhookRegistration(q, 'telegram');
  const expected = telegramWebhookUrlShown(config);
  return {
    telegram: {
      registered: Boolean(row && expected && row.url === expected),
      at: row ? new Date(row.registered_at).toISOString() : null,
      url: row?.url ?? null,
    },
  };
}
