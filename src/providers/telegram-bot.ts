import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import { classifyTransport, failureResult } from './classify.ts';
import { baseUrl, missingOf, valueOr, type AdapterDeps } from './common.ts';
import { TransportError, adapterDeadlineMs, callRendered, type HttpResponse } from './http.ts';
import { classifyTelegram } from './telegram-errors.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['TELEGRAM_BOT_TOKEN'] as const;

/** sendMessage `text`: 1-4096 characters after entity parsing (the tags and escapes do not count). */
export const TELEGRAM_TEXT_LIMIT = 4096;

/** Escapes text for parse_mode HTML: only &, < and > are special there. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The sendMessage body. Texts over 4096 characters never reach here: the outbox refuses them at
 * enqueue (BODY_LIMITS.telegram counts title + body) rather than splitting one notification into
 * several messages that could arrive partly.
 */
export function telegramBody(row: OutboxRow): Record<string, unknown> {
  const title = row.title ? `<b>${escapeTelegramHtml(row.title)}</b>\n` : '';
  return {
    chat_id: /^-?\d+$/.test(row.target) ? Number(row.target) : row.target,
    text: `${title}${escapeTelegramHtml(row.body ?? '')}`,
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
  };
}

export function createTelegramAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  const method = (name: string) =>
    `${baseUrl(config.env.TELEGRAM_API_BASE_URL)}/bot${valueOr(config, 'TELEGRAM_BOT_TOKEN')}/${name}`;
  const build = (row: OutboxRow): RenderedRequest => ({
    kind: 'http',
    method: 'POST',
    url: method('sendMessage'),
    headers: { 'content-type': 'application/json' },
    body: telegramBody(row),
  });

  const call = (req: RenderedRequest, signal: AbortSignal): Promise<HttpResponse | TransportError> =>
    callRendered(
      req,
      { timeoutMs: adapterDeadlineMs(config.env.COMMS_PROVIDER_TIMEOUT_MS), signal },
      redactor,
    );

  return {
    id: 'telegram_bot',
    info: adapterInfo('telegram_bot'),
    requiredEnv: REQUIRED,
    missingEnv: () => missingOf(config, REQUIRED),
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, ctx: SendContext): Promise<SendResult> {
      const req = build(row);
      const request = redactor.scrubValue(req);
      const visible = (row.title ? row.title.length + 1 : 0) + (row.body?.length ?? 0);
      if (visible > TELEGRAM_TEXT_LIMIT) {
        // Enqueue refuses these already; a row that got here some other way is refused the same way.
        return failureResult(
          {
            class: 'permanent',
            code: 'telegram_text_too_long',
            message: `text is ${visible} characters; Telegram allows ${TELEGRAM_TEXT_LIMIT}`,
          },
          request,
        );
      }
      const res = await call(req, ctx.signal);
      if (res instanceof TransportError) return failureResult(classifyTransport('telegram', res), request);
      const j = res.json as
        { ok?: unknown; result?: { message_id?: unknown; chat?: { id?: unknown } } } | undefined;
      if (res.status >= 200 && res.status <= 299 && j?.ok === true) {
        const id = j.result?.message_id;
        if (typeof id !== 'number') {
          return failureResult(
            {
              class: 'retryable',
              code: 'telegram_malformed_response',
              message: `HTTP ${res.status} without a message_id`,
            },
            request,
          );
        }
        const chat = j.result?.chat?.id;
        // message_id is unique per chat only, so the provider id names both.
        const providerMessageId = `${typeof chat === 'number' || typeof chat === 'string' ? chat : row.target}:${id}`;
        return { outcome: 'sent', providerMessageId, request, response: { ok: true, message_id: id } };
      }
      if (res.status >= 200 && res.status <= 299) {
        return failureResult(
          {
            class: 'retryable',
            code: 'telegram_malformed_response',
            message: `HTTP ${res.status} without ok:true`,
          },
          request,
        );
      }
      const c = classifyTelegram(res.status, res.json);
      return failureResult(
        { ...c, message: redactor.scrub(c.message) },
        request,
        res.json === undefined ? undefined : redactor.scrubValue(res.json),
      );
    },
    async verify(signal) {
      if (missingOf(config, REQUIRED).length)
        return { ok: false, errorCode: 'provider_not_configured', message: 'missing TELEGRAM_BOT_TOKEN' };
      const res = await call({ kind: 'http', method: 'GET', url: method('getMe'), headers: {} }, signal);
      if (res instanceof TransportError) {
        const c = classifyTransport('telegram', res);
        return { ok: false, errorCode: c.code, message: c.message };
      }
      const j = res.json as { ok?: unknown; result?: { username?: unknown; id?: unknown } } | undefined;
      if (res.status === 200 && j?.ok === true && typeof j.result?.username === 'string') {
        return { ok: true, detail: redactor.scrub(`bot @${j.result.username}`) };
      }
      const c = classifyTelegram(res.status, res.json);
      return { ok: false, errorCode: c.code, message: redactor.scrub(c.message) };
    },
  };
}
