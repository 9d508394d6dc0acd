import { DEMO_TENANT } from '../app/demo-seed.ts';
import { isAppError } from '../core/errors.ts';
import { toLocale, type Locale } from '../core/templates.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { Queryable } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import { appendAudit } from '../store/sql/audit.ts';
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

/**
 * Applies one stored Telegram Update inside the caller's transaction. Every update is recorded as
 * an inbound message. `/start <token>` additionally links the chat to the owner who created the
 * token, and enqueues a confirmation through the outbox; a bad token gets a polite reply (also via
 * the outbox) and links nothing. Nothing else is ever changed.
 */
export async function processTelegram(q: Queryable, deps: TelegramDeps, body: unknown, receivedAt: Date): Promise<TelegramSummary> {
  const u = parseTelegramUpdate(body);
  if (!u) return { stored: false, link: null, replied: false };
  const start = u.type === 'command' ? startPayload(u.text) : null;
  let tenantId: string | null = null;
  let link: ConsumeResult['kind'] | null = null;
  let replied = false;
  let text = u.text;
  let raw: unknown = body;

  // Only a fresh message links: an edited "/start <token>" is a record like any other edit.
  if (start?.payload && u.chatId && u.kind === 'message') {
    const token = start.payload;
    const result: ConsumeResult = START_PAYLOAD_RE.test(token) ? await consumeLink(q, token, u.chatId) : { kind: 'unknown' };
    link = result.kind;
    if (result.kind !== 'unknown') {
      // A real token is spent (or worthless) once it arrives; it is still not kept in the record.
      text = '/start [link token]';
      raw = JSON.parse(JSON.stringify(body).split(token).join('[link token]'));
    }
    if (result.kind === 'linked') {
      const l = result.link;
      tenantId = l.tenant_id;
      await upsertContact(q, { tenantId: l.tenant_id, chatId: u.chatId, ownerSubject: l.owner_subject, linkId: l.id, firstName: u.senderName });
      await appendAudit(q, [
        {
          tenantId: l.tenant_id,
          entity: 'telegram_link',
          entityId: l.id,
          actor: WEBHOOK_ACTOR_TELEGRAM,
          action: 'linked',
          from: 'pending',
          to: 'used',
          reason: `Telegram chat linked to owner ${l.owner_subject}`,
          detail: { chatId: u.chatId, updateId: u.updateId },
        },
      ]);
      const tenant = await getTenant(q, l.tenant_id);
      if (tenant) {
        replied = await enqueueReply(q, deps, tenant, {
          channel: 'telegram',
          target: u.chatId,
          template: 'telegram_link_confirmed',
          data: {},
          locale: localeFor(u, tenant),
          source: 'telegram_link',
          idempotencyKey: `telegram-link:${l.id}`,
        });
      }
    } else {
      const known = result.kind === 'unknown' ? null : result.link;
      if (known) {
        tenantId = known.tenant_id;
        await appendAudit(q, [
          {
            tenantId: known.tenant_id,
            entity: 'telegram_link',
            entityId: known.id,
            actor: WEBHOOK_ACTOR_TELEGRAM,
            action: 'refused',
            from: result.kind,
            to: result.kind,
            reason: `Telegram link token ${result.kind === 'used' ? 'already used' : 'expired'}; nothing linked`,
            detail: { chatId: u.chatId, updateId: u.updateId },
          },
        ]);
      } else {
        tenantId = await tenantForChat(q, u.chatId);
      }
      // Who answers an unknown token: the chat's tenant, else the default (demo) tenant.
      const tenant = await getTenant(q, tenantId ?? DEMO_TENANT.id);
      // A reply is only worth sending now: without the tenant's Telegram opt-in it would wait in
      // the outbox (queued) and arrive stale, so it is not enqueued at all.
      if (tenant && tenant.opt_ins.telegram !== true) {
        deps.logger.info({ updateId: u.updateId, tenant: tenant.id }, 'Telegram link refusal not answered: the tenant has not opted in to Telegram');
      } else if (tenant) {
        replied = await enqueueReply(q, deps, tenant, {
          channel: 'telegram',
          target: u.chatId,
          body: REFUSED_TEXT[localeFor(u, tenant)],
          locale: localeFor(u, tenant),
          source: 'telegram_link',
          idempotencyKey: `telegram-link-refused:${u.updateId}`,
        });
      } else {
        deps.logger.warn({ updateId: u.updateId }, 'Telegram /start with an unknown link token and no tenant to answer from');
      }
    }
  } else {
    tenantId = await tenantForChat(q, u.chatId);
  }

  if (!tenantId) {
    deps.metrics.webhookUnroutable.inc({ provider: 'telegram' });
    deps.logger.info({ updateId: u.updateId, kind: u.kind }, 'Telegram update from a chat linked to no tenant');
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
  return { stored: id !== null, link, replied };
}

async function enqueueReply(
  q: Queryable,
  deps: TelegramDeps,
  tenant: TenantRow,
  input: Parameters<OutboxService['enqueueIn']>[1],
): Promise<boolean> {
  try {
    // In the same transaction as the link: no link without its confirmation, and a reprocessed
    // update does not enqueue twice (idempotency key).
    await deps.outbox.enqueueIn(q, input, { tenant, name: WEBHOOK_ACTOR_TELEGRAM });
    return true;
  } catch (err) {
    // A reply the outbox refuses (e.g. an odd chat id) must not undo the record of the update.
    if (!isAppError(err)) throw err;
    deps.logger.warn({ code: err.code, tenant: tenant.id }, 'Telegram reply not enqueued');
    return false;
  }
}
