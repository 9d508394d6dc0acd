import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { CHANNELS, isChannel, type Channel } from '../core/channels.ts';
import { AppError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { normalizeTarget } from '../core/target.ts';
import { renderTemplate, toLocale } from '../core/templates.ts';
import { checkTemplateSend } from '../core/wa-templates.ts';
import type { ProviderRegistry } from '../core/adapter.ts';
import { wabaIdOf } from '../config/config.ts';
import type { Queryable } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import type { NewOutboxRow } from '../store/sql/enqueue.ts';
import { findTemplate } from '../store/sql/wa-templates.ts';
import { gateFor, modeOf, statusOf } from './gate-inputs.ts';
import { BODY_LIMITS, type EnqueueInput } from './schemas.ts';
import type { Actor } from './types.ts';

/** What a row draft needs beyond the message: the running configuration and providers. */
export interface DraftDeps {
  config: Config;
  registry: ProviderRegistry;
  redactor: Redactor;
}

/** The request's identity for idempotency: the same key with another message is a conflict. */
export function canonicalHash(input: EnqueueInput): string {
  const { idempotencyKey: _k, ...rest } = input;
  const sorted = JSON.stringify(rest, Object.keys(rest).sort());
  return createHash('sha256')
    .update(sorted + JSON.stringify(rest.data ?? null))
    .digest('hex');
}

/** Validates and renders a message into a row draft; throws AppError with a stable code. */
export function prepareMessage(input: EnqueueInput, tenant: TenantRow, redactor: Redactor) {
  if (!isChannel(input.channel)) {
    throw new AppError(
      'unknown_channel',
      `Unknown channel "${String(input.channel).slice(0, 40)}". Use one of: ${CHANNELS.join(', ')}.`,
    );
  }
  const channel: Channel = input.channel;
  if (input.body !== undefined && input.template !== undefined) {
    // One text source per message: a body beside a template would silently win over it.
    throw new AppError('validation_failed', 'Give either "body" or "template", not both.', {
      details: { field: 'template' },
    });
  }
  const target = normalizeTarget(channel, input.target);
  const locale = toLocale(input.locale ?? tenant.locale);
  let { body, title, subject } = input;
  if (input.template && channel !== 'whatsapp') {
    const r = renderTemplate(input.template, input.data ?? {}, {
      locale,
      currency: tenant.currency,
      timeZone: tenant.timezone,
    });
    body = body ?? r.body;
    title = title ?? r.title;
    subject = subject ?? r.subject;
  }
  if (channel === 'whatsapp' && input.template && typeof input.data?.whatsappTemplate !== 'string') {
    // A WhatsApp template is Meta's pre-approved template: name it in data.whatsappTemplate.
    const r = renderTemplate(input.template, input.data ?? {}, {
      locale,
      currency: tenant.currency,
      timeZone: tenant.timezone,
    });
    body = body ?? r.body;
    title = title ?? r.title;
  }
  if (
    !body &&
    !(channel === 'whatsapp' && typeof input.data?.whatsappTemplate === 'string') &&
    channel !== 'otp_sms'
  ) {
    throw new AppError('validation_failed', 'Give either "body" or "template".', {
      details: { field: 'body' },
    });
  }
  const limit = BODY_LIMITS[channel];
  const length = (body?.length ?? 0) + (channel === 'telegram' && title ? title.length + 1 : 0);
  if (length > limit) {
    throw new AppError(
      'validation_failed',
      `The ${channel} text is ${length} characters; the limit is ${limit}.`,
      {
        details: { field: 'body', limit },
      },
    );
  }
  // A configured secret inside a message would be sent to a provider and stored: refuse it.
  const leaked = redactor.findSecretNames(
    JSON.stringify([input.target, body, title, subject, input.data ?? null]),
  );
  if (leaked.length) {
    throw new AppError(
      'secret_in_content',
      `The message contains the value of ${leaked.join(', ')}; it was not accepted.`,
    );
  }
  const sendAt = input.sendAt ? new Date(input.sendAt) : new Date();
  return {
    channel,
    target,
    locale,
    body: body ?? null,
    title: title ?? null,
    subject: subject ?? null,
    sendAt,
  };
}

/** The row a message becomes for this tenant (validated, rendered, gated); throws AppError. */
export function draftRow(
  deps: DraftDeps,
  input: EnqueueInput,
  actor: Actor,
  idempotencyKey?: string,
): NewOutboxRow {
  const tenant = actor.tenant;
  const p = prepareMessage(input, tenant, deps.redactor);
  const adapter = deps.registry.forChannel(p.channel);
  const decision = gateFor(deps.config, adapter, tenant.opt_ins, p.channel);
  const expiresAt =
    p.channel === 'otp_sms' ? new Date(p.sendAt.getTime() + deps.config.env.OTP_TTL_S * 1000) : null;
  return {
    id: randomUUID(),
    tenantId: tenant.id,
    channel: p.channel,
    adapter: adapter.id,
    target: p.target,
    title: p.title,
    subject: p.subject,
    body: p.body,
    template: input.template ?? null,
    data: input.data ?? null,
    locale: p.locale,
    source: input.source,
    status: statusOf(decision),
    reason: decision.reason,
    mode: modeOf(decision, p.channel),
    idempotencyKey: idempotencyKey ?? input.idempotencyKey ?? null,
    requestHash: canonicalHash(input),
    sendAt: p.sendAt,
    expiresAt,
    maxAttempts: deps.config.env.COMMS_MAX_ATTEMPTS,
    actor: actor.name,
  };
}

/**
 * With template sync on (WHATSAPP_BUSINESS_ACCOUNT_ID), a WhatsApp template send must name a
 * synced, APPROVED template in its language with as many body parameters as it has: Meta would
 * refuse it anyway (132001, 132000), after the row had waited its turn.
 */
export async function checkWhatsAppTemplate(
  q: Queryable,
  config: Config,
  input: EnqueueInput,
): Promise<void> {
  const waba = wabaIdOf(config);
  const name = input.data?.whatsappTemplate;
  if (!waba || input.channel !== 'whatsapp' || typeof name !== 'string') return;
  const language = typeof input.data?.language === 'string' ? input.data.language : 'az';
  const params = Array.isArray(input.data?.params) ? input.data.params.length : 0;
  const found = await findTemplate(q, waba, name, language);
  const refusal = checkTemplateSend(found, name, language, params);
  if (refusal) throw new AppError(refusal.code, refusal.message, { details: { field: 'data' } });
}
