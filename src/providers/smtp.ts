import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import { missingOf, valueOr, type AdapterDeps } from './common.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['SMTP_HOST', 'SMTP_PORT', 'SMTP_FROM'] as const;

/** Message-ID derived from the outbox id, so a duplicate delivery is recognisable by the receiver. */
export function messageIdFor(row: Pick<OutboxRow, 'id'>, from: string): string {
  const domain = from.includes('@') ? from.split('@').pop()!.replace(/[>\s]/g, '') : 'mupzaos.local';
  return `<outbox-${row.id}@${domain}>`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function emailMessage(row: OutboxRow, from: string): Record<string, unknown> {
  const text = row.body ?? '';
  return {
    from,
    to: row.target,
    subject: row.subject ?? row.title ?? 'MUPZAOS',
    text,
    html: `<!doctype html><html><body><p>${escapeHtml(text).replace(/\n/g, '<br>')}</p></body></html>`,
    messageId: messageIdFor(row, from),
    headers: { 'X-Mupza-Outbox-Id': row.id },
  };
}

export function createSmtpAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  const build = (row: OutboxRow): RenderedRequest => {
    const from = valueOr(config, 'SMTP_FROM');
    return {
      kind: 'smtp',
      url: `smtp://${valueOr(config, 'SMTP_HOST')}:${valueOr(config, 'SMTP_PORT')}`,
      envelope: { from, to: [row.target] },
      message: emailMessage(row, from),
      note: config.configured.has('SMTP_USER') ? 'AUTH as SMTP_USER with SMTP_PASS' : 'no AUTH',
    };
  };
  return {
    id: 'smtp',
    info: adapterInfo('smtp'),
    requiredEnv: REQUIRED,
    missingEnv: () => missingOf(config, ['SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASS', 'SMTP_FROM']),
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, _ctx: SendContext): Promise<SendResult> {
      return {
        outcome: 'permanent',
        errorCode: 'live_not_available',
        errorMessage: 'live SMTP sends are not available in this build',
        request: redactor.scrubValue(build(row)),
      };
    },
  };
}
