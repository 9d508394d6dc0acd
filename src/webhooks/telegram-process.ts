import { isAppError } from '../core/errors.ts';
import { toLocale, type Locale } from '../core/templates.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { Queryable } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import { appendAudit, type AuditInput } from '../store/sql/audit.ts';
import { getTenant } from '../store/tenants.ts';
import { storeInbound } from './inbound.ts';
import { tenantForChat } from './routing.ts';
import { consumeLink, upsertContact, type ConsumeResult } from './telegram-links.ts';
import { parseTelegramUpdate, startPayload, START_PAYLOAD_RE, type TgInbound } from './telegram-update.ts';
import type { ProcessDeps } from './whatsapp-process.ts';

export const WEBHOOK_ACTOR_TELEGRAM = 'webhook:telegram';

export interface TelegramDeps extends ProcessDeps {
  outbox: OutboxService;
}

export interface TelegramSummary {
  stored: boolean;
  link: ConsumeResult['kind'] | null;
  replied: boolean;
}

const REFUSED_TEXT: Record<Locale, string> = {
  az: 'Bu keçid etibarsızdır, vaxtı keçib və ya artıq istifadə olunub. MUPZAOS panelində yeni Telegram keçidi yaradın.',
  ru: 'Эта ссылка недействительна, устарела или уже использована. Создайте новую ссылку Telegram в панели MUPZAOS.',
  en: 'This link is invalid, expired or already used. Please create a new Telegram link in the MUPZAOS panel.',
};

/** The sender's Telegram language when we speak it, else the tenant's. */
function localeFor(u: TgInbound, tenant: TenantRow): Locale {
  return toLocale(u.languageCode, toLocale(tenant.locale));
}

/** The answer a /start gets, decided while linking and enqueued last. */
interface PendingAnswer {
  /** The tenant that answers (null: nobody can). */
  tenant: TenantRow | null;
  message: (tenant: TenantRow) => StartMessage;
  /** The link's audit event, appended with how it was answered. */
  audit: AuditInput | null;
}

/**
 * Applies one stored Telegram Update inside the caller's transaction. Every update is recorded as
 * an inbound message. `/start <token>` additionally links the chat to the owner who created the
 * token, and enqueues a confirmation through the outbox; a bad token gets a polite reply (also via
 * the outbox) and links nothing. Both answers follow one rule (answerStart). Nothing else is ever
 * changed.
 */
export async function processTelegram(
  q: Queryable,
  deps: TelegramDeps,
  body: unknown,
  receivedAt: Date,
): Promise<TelegramSummary> {
  const u = parseTelegramUpdate(body);
  if (!u) return { stored: false, link: null, replied: false };
  const start = u.type === 'command' ? startPayload(u.text) : null;
  let tenantId: string | null = null;
  let link: ConsumeResult['kind'] | null = null;
  let answer: PendingAnswer | null = null;
  let text = u.text;
  let raw: unknown = body;

  // Only a fresh message links: an edited "/start <token>" is a record like any other edit.
  if (start?.payload && u.chatId && u.kind === 'message') {
    const chatId = u.chatId;
    const token = start.payload;
    const result: ConsumeResult = START_PAYLOAD_RE.test(token)
      ? await consumeLink(q, token, chatId)
      : { kind: 'unknown' };
    link = result.kind;
    if (result.kind !== 'unknown') {
      // A real token is spent (or worthless) once it arrives; it is still not kept in the record.
      text = '/start [link token]';
      raw = JSON.parse(JSON.stringify(body).split(token).join('[link token]'));
    }
    if (result.kind === 'linked') {
      const l = result.link;
      tenantId = l.tenant_id;
      await upsertContact(q, {
        tenantId: l.tenant_id,
        chatId,
        ownerSubject: l.owner_subject,
        linkId: l.id,
        firstName: u.senderName,
      });
      answer = {
        tenant: await getTenant(q, l.tenant_id),
        message: () => ({
          template: 'telegram_link_confirmed',
          data: {},
          idempotencyKey: `telegram-link:${l.id}`,
        }),
        audit: {
          tenantId: l.tenant_id,
          entity: 'telegram_link',
          entityId: l.id,
          actor: WEBHOOK_ACTOR_TELEGRAM,
          action: 'linked',
          from: 'pending',
          to: 'used',
          reason: `Telegram chat linked to owner ${l.owner_subject}`,
          detail: { chatId, updateId: u.updateId },
        },
      };
    } else {
      const known = result.kind === 'unknown' ? null : result.link;
      tenantId = known ? known.tenant_id : await tenantForChat(q, chatId);
      answer = {
        // Who answers an unknown token: the chat's tenant, else the default (demo) tenant.
        tenant: await getTenant(q, tenantId ?? deps.config.defaultTenant),
        message: (t) => ({
          body: REFUSED_TEXT[localeFor(u, t)],
          idempotencyKey: `telegram-link-refused:${u.updateId}`,
        }),
        audit: known && {
          tenantId: known.tenant_id,
          entity: 'telegram_link',
          entityId: known.id,
          actor: WEBHOOK_ACTOR_TELEGRAM,
          action: 'refused',
          from: result.kind,
          to: result.kind,
          reason: `Telegram link token ${result.kind === 'used' ? 'already used' : 'expired'}; nothing linked`,
          detail: { chatId, updateId: u.updateId },
        },
      };
    }
  } else {
    tenantId = await tenantForChat(q, u.chatId);
  }

  if (!tenantId) {
    deps.metrics.webhookUnroutable.inc({ provider: 'telegram' });
    deps.logger.info(
      { updateId: u.updateId, kind: u.kind },
      'Telegram update from a chat linked to no tenant',
    );
  }
  const id = await storeInbound(
    q,
    {
      tenantId,
      provider: 'telegram',
      externalId: u.updateId,
      sender: u.senderId ?? u.chatId ?? 'unknown',
      senderName: u.senderName,
      type: u.type,
      text,
      raw,
      sentAt: u.sentAt,
      receivedAt,
    },
    deps.redactor,
  );
  let replied = false;
  if (answer && u.chatId) {
    // Last, because enqueueing scopes the rest of the transaction to the answering tenant (row-level
    // security), while the record above may belong to no tenant (an unlinked chat the demo tenant
    // answers). The link's audit event is that tenant's, so it can follow.
    const reply = await answerStart(q, deps, answer.tenant, u, u.chatId, answer.message);
    replied = reply === 'enqueued';
    if (answer.audit)
      await appendAudit(q, [{ ...answer.audit, detail: { ...(answer.audit.detail as object), reply } }]);
  }
  return { stored: id !== null, link, replied };
}

type StartMessage =
  | { template: string; data: Record<string, unknown>; idempotencyKey: string }
  | { body: string; idempotencyKey: string };

/** How a /start was answered (recorded in the link's audit event). */
export type StartReply = 'enqueued' | 'no_opt_in' | 'no_tenant' | 'not_accepted';

/**
 * Answers a /start (link confirmation or refusal). The answer replies to what the sender just did,
 * so it goes out now or not at all: only a tenant opted in to Telegram answers. Enqueued without
 * the opt-in it would wait queued and arrive, stale, whenever Telegram is switched on. The same
 * rule holds for the confirmation and for a refusal; the link itself does not depend on it.
 */
async function answerStart(
  q: Queryable,
  deps: TelegramDeps,
  tenant: TenantRow | null,
  u: TgInbound,
  chatId: string,
  message: (tenant: TenantRow) => StartMessage,
): Promise<StartReply> {
  if (!tenant) {
    deps.logger.warn(
      { updateId: u.updateId },
      'Telegram /start with an unknown link token and no tenant to answer from',
    );
    return 'no_tenant';
  }
  if (tenant.opt_ins.telegram !== true) {
    deps.logger.info(
      { updateId: u.updateId, tenant: tenant.id },
      'Telegram /start not answered: the tenant has not opted in to Telegram',
    );
    return 'no_opt_in';
  }
  try {
    // In the same transaction as the link and the record: a reprocessed update does not enqueue
    // twice (idempotency key).
    const input = {
      channel: 'telegram' as const,
      target: chatId,
      locale: localeFor(u, tenant),
      source: 'telegram_link',
      ...message(tenant),
    };
    await deps.outbox.enqueueIn(q, input, { tenant, name: WEBHOOK_ACTOR_TELEGRAM });
    return 'enqueued';
  } catch (err) {
    // A reply the outbox refuses (e.g. an odd chat id) must not undo the record of the update.
    if (!isAppError(err)) throw err;
    deps.logger.warn({ code: err.code, tenant: tenant.id }, 'Telegram reply not enqueued');
    return 'not_accepted';
  }
}
