import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import { baseUrl, missingOf, valueOr, type AdapterDeps } from './common.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['TELEGRAM_BOT_TOKEN'] as const;

/** Escapes text for parse_mode HTML: only &, < and > are special there. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

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
  const build = (row: OutboxRow): RenderedRequest => ({
    kind: 'http',
    method: 'POST',
    url: `${baseUrl(config.env.TELEGRAM_API_BASE_URL)}/bot${valueOr(config, 'TELEGRAM_BOT_TOKEN')}/sendMessage`,
    headers: { 'content-type': 'application/json' },
    body: telegramBody(row),
  });
  return {
    id: 'telegram_bot',
    info: adapterInfo('telegram_bot'),
    requiredEnv: REQUIRED,
    missingEnv: () => missingOf(config, REQUIRED),
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, _ctx: SendContext): Promise<SendResult> {
      return {
        outcome: 'permanent',
        errorCode: 'live_not_available',
        errorMessage: 'live Telegram sends are not available in this build',
        request: redactor.scrubValue(build(row)),
      };
    },
  };
}
