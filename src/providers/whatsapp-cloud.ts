import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import { baseUrl, missingOf, valueOr, type AdapterDeps } from './common.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_API_VERSION'] as const;

/** Builds the Cloud API send request body: a Meta template when the row names one, else text. */
export function whatsappBody(row: OutboxRow): Record<string, unknown> {
  const to = row.target.replace(/^\+/, '');
  if (row.template && row.data && typeof row.data.whatsappTemplate === 'string') {
    const params = Array.isArray(row.data.params) ? row.data.params.map((p) => ({ type: 'text', text: String(p) })) : [];
    return {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'template',
      template: {
        name: row.data.whatsappTemplate,
        language: { code: typeof row.data.language === 'string' ? row.data.language : 'az' },
        ...(params.length ? { components: [{ type: 'body', parameters: params }] } : {}),
      },
      biz_opaque_callback_data: row.id,
    };
  }
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'text',
    text: { body: row.body ?? '', preview_url: false },
    biz_opaque_callback_data: row.id,
  };
}

export function createWhatsAppAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  const build = (row: OutboxRow): RenderedRequest => ({
    kind: 'http',
    method: 'POST',
    url: `${baseUrl(config.env.WHATSAPP_GRAPH_BASE_URL)}/${valueOr(config, 'WHATSAPP_API_VERSION')}/${valueOr(config, 'WHATSAPP_PHONE_NUMBER_ID')}/messages`,
    headers: {
      authorization: `Bearer ${valueOr(config, 'WHATSAPP_ACCESS_TOKEN')}`,
      'content-type': 'application/json',
    },
    body: whatsappBody(row),
  });
  return {
    id: 'whatsapp_cloud',
    info: adapterInfo('whatsapp_cloud'),
    requiredEnv: REQUIRED,
    missingEnv: () => missingOf(config, REQUIRED),
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, _ctx: SendContext): Promise<SendResult> {
      return {
        outcome: 'permanent',
        errorCode: 'live_not_available',
        errorMessage: 'live WhatsApp sends are not available in this build',
        request: redactor.scrubValue(build(row)),
      };
    },
  };
}
