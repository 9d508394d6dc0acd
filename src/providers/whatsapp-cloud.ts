import { adapterInfo } from '../core/channels.ts';
import { isBsuidTarget } from '../core/wa-identity.ts';
import { parseCaps } from '../core/wa-pricing.ts';
import { monthlyUsage } from '../store/sql/wa-usage.ts';
import type { Queryable } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import { classifyTransport, failureResult } from './classify.ts';
import { baseUrl, missingOf, valueOr, type AdapterDeps } from './common.ts';
import { TransportError, adapterDeadlineMs, callRendered, type HttpResponse } from './http.ts';
import { OUTSIDE_WINDOW_REASON, classifyWhatsApp } from './whatsapp-errors.ts';
import { windowState } from './whatsapp-window.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_API_VERSION'] as const;

/**
 * Who the message goes to: `to` for a phone number, `recipient` for a business-scoped user id or
 * parent BSUID (a customer who adopted a username may have no phone number we know). Meta lets `to`
 * win when both are given, so only one is ever sent.
 */
export function addressee(target: string): { to: string } | { recipient: string } {
  return isBsuidTarget(target) ? { recipient: target } : { to: target.replace(/^\+/, '') };
}

/** Builds the Cloud API send request body: a Meta template when the row names one, else text. */
export function whatsappBody(row: OutboxRow): Record<string, unknown> {
  const to = addressee(row.target);
  if (row.template && row.data && typeof row.data.whatsappTemplate === 'string') {
    const params = Array.isArray(row.data.params)
      ? row.data.params.map((p) => ({ type: 'text', text: String(p) }))
      : [];
    return {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...to,
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
    ...to,
    type: 'text',
    text: { body: row.body ?? '', preview_url: false },
    biz_opaque_callback_data: row.id,
  };
}

export interface WhatsAppAdapter extends ProviderAdapter {
  /** The store that holds the 24-hour windows (set by the providers module at start). */
  useWindowStore(q: Queryable | null): void;
}

export function isWhatsAppAdapter(a: ProviderAdapter): a is WhatsAppAdapter {
  return a.id === 'whatsapp_cloud' && typeof (a as Partial<WhatsAppAdapter>).useWindowStore === 'function';
}

export function createWhatsAppAdapter(deps: AdapterDeps): WhatsAppAdapter {
  const { config, redactor } = deps;
  let windows: Queryable | null = null;
  const graph = () =>
    `${baseUrl(config.env.WHATSAPP_GRAPH_BASE_URL)}/${valueOr(config, 'WHATSAPP_API_VERSION')}/${valueOr(config, 'WHATSAPP_PHONE_NUMBER_ID')}`;
  const build = (row: OutboxRow): RenderedRequest => ({
    kind: 'http',
    method: 'POST',
    url: `${graph()}/messages`,
    headers: {
      authorization: `Bearer ${valueOr(config, 'WHATSAPP_ACCESS_TOKEN')}`,
      'content-type': 'application/json',
    },
    body: whatsappBody(row),
  });
  const timeoutMs = () => adapterDeadlineMs(config.env.COMMS_PROVIDER_TIMEOUT_MS);
  const caps = config.env.WHATSAPP_MONTHLY_CAP ? parseCaps(config.env.WHATSAPP_MONTHLY_CAP) : null;
  const capOf = (tenantId: string) => (caps instanceof Map ? caps.get(tenantId) : undefined);

  const call = (req: RenderedRequest, signal: AbortSignal): Promise<HttpResponse | TransportError> =>
    callRendered(req, { timeoutMs: timeoutMs(), signal }, redactor);

  return {
    id: 'whatsapp_cloud',
    info: adapterInfo('whatsapp_cloud'),
    requiredEnv: REQUIRED,
    missingEnv: () => missingOf(config, REQUIRED),
    render: (row) => redactor.scrubValue(build(row)),
    useWindowStore(q) {
      windows = q;
    },
    async send(row: OutboxRow, ctx: SendContext): Promise<SendResult> {
      const req = build(row);
      const request = redactor.scrubValue(req);
      const body = req.body as { type: string };
      // A template is a business-initiated, billable message: past the tenant's monthly cap it is
      // blocked here, before any call (Meta's own count is the measure: statuses with pricing).
      if (body.type === 'template' && windows) {
        const cap = capOf(row.tenant_id);
        if (cap !== undefined) {
          const used = (await monthlyUsage(windows, row.tenant_id, new Date().toISOString().slice(0, 7)))
            .filter((c) => c.billable)
            .reduce((n, c) => n + c.messages, 0);
          if (used >= cap) {
            return {
              outcome: 'permanent',
              errorCode: 'whatsapp_monthly_cap',
              errorMessage: `monthly WhatsApp cap reached: ${used} of ${cap} billable messages this month (WHATSAPP_MONTHLY_CAP); refused locally, no call made`,
              finalStatus: 'blocked',
              request,
            };
          }
        }
      }
      // Free text outside the customer-service window is refused here, without a call: Meta would
      // refuse it with 131047 anyway. Without a window store Meta's answer is the only check.
      if (body.type !== 'template' && windows) {
        const w = await windowState(windows, row.tenant_id, row.target);
        if (!w.open) {
          const since = w.lastInboundAt
            ? `last inbound message ${w.lastInboundAt.toISOString()}`
            : 'no inbound message from this recipient';
          return {
            outcome: 'permanent',
            errorCode: 'whatsapp_outside_window',
            errorMessage: `${OUTSIDE_WINDOW_REASON} (${since}; refused locally, no call made)`,
            finalStatus: 'dead',
            request,
          };
        }
      }
      const res = await call(req, ctx.signal);
      if (res instanceof TransportError) return failureResult(classifyTransport('whatsapp', res), request);
      if (res.status >= 200 && res.status <= 299) {
        const j = res.json as
          | { messages?: { id?: unknown; message_status?: unknown }[]; contacts?: { wa_id?: unknown }[] }
          | undefined;
        const wamid = j?.messages?.[0]?.id;
        if (typeof wamid !== 'string') {
          // A 200 that is not Meta's JSON (a proxy or captive portal page): the message was most
          // likely not sent, and WhatsApp delivery is at-least-once anyway.
          return failureResult(
            {
              class: 'retryable',
              code: 'whatsapp_malformed_response',
              message: `HTTP ${res.status} without a message id`,
            },
            request,
          );
        }
        return {
          outcome: 'sent',
          providerMessageId: wamid,
          request,
          response: {
            messages: [
              {
                id: wamid,
                ...(j?.messages?.[0]?.message_status ? { message_status: j.messages[0].message_status } : {}),
              },
            ],
            contacts: j?.contacts?.map((c) => ({ wa_id: c.wa_id })) ?? [],
          },
        };
      }
      const c = classifyWhatsApp(res.status, res.json, res.headers.get('retry-after'));
      return failureResult(
        { ...c, message: redactor.scrub(c.message) },
        request,
        res.json === undefined ? undefined : { status: res.status, error: redactor.scrubValue(res.json) },
      );
    },
    async verify(signal) {
      const missing = missingOf(config, REQUIRED);
      if (missing.length)
        return { ok: false, errorCode: 'provider_not_configured', message: `missing ${missing.join(', ')}` };
      const res = await call(
        {
          kind: 'http',
          method: 'GET',
          url: graph(),
          headers: { authorization: `Bearer ${valueOr(config, 'WHATSAPP_ACCESS_TOKEN')}` },
        },
        signal,
      );
      if (res instanceof TransportError) {
        const c = classifyTransport('whatsapp', res);
        return { ok: false, errorCode: c.code, message: c.message };
      }
      if (res.status >= 200 && res.status <= 299) {
        const j = res.json as
          { display_phone_number?: unknown; verified_name?: unknown; quality_rating?: unknown } | undefined;
        if (!j || typeof j.display_phone_number !== 'string') {
          return {
            ok: false,
            errorCode: 'whatsapp_malformed_response',
            message: `HTTP ${res.status} without a phone number`,
          };
        }
        const name = typeof j.verified_name === 'string' ? ` "${j.verified_name}"` : '';
        const quality = typeof j.quality_rating === 'string' ? `, quality ${j.quality_rating}` : '';
        return {
          ok: true,
          detail: redactor.scrub(`phone number ${j.display_phone_number}${name}${quality}`),
        };
      }
      const c = classifyWhatsApp(res.status, res.json);
      return { ok: false, errorCode: c.code, message: redactor.scrub(c.message) };
    },
  };
}
