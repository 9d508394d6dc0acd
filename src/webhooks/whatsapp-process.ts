import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../kernel/metrics.ts';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { canTransition, isForwardProgress, type Status } from '../core/status.ts';
import { moveContact, recordInbound } from '../providers/whatsapp-window.ts';
import type { Queryable } from '../store/driver.ts';
import { transitionRow } from '../store/sql/transition.ts';
import {
  insertStatusEvent,
  insertSystemInbound,
  lockRowByWamid,
  matchableStatusEvents,
  settleStatusEvent,
} from '../store/sql/wa-status.ts';
import { storeInbound } from './inbound.ts';
import { tenantForPhoneNumber } from './routing.ts';
import { parseWhatsAppPayload, type WaStatusReport } from './whatsapp-payload.ts';

export interface ProcessDeps {
  config: Config;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
}

export const WEBHOOK_ACTOR_WHATSAPP = 'webhook:whatsapp';

export interface WhatsAppSummary {
  inbound: number;
  identityChanges: number;
  duplicates: number;
  unroutable: number;
  statuses: Record<StatusOutcome | 'duplicate', number>;
}

type StatusOutcome = 'applied' | 'stale' | 'ignored' | 'unmatched';

/**
 * Applies one stored WhatsApp delivery inside the caller's transaction: inbound messages are
 * recorded (and open the sender's 24-hour window), delivery statuses move the matching outbox row
 * forward. Nothing else is touched.
 */
export async function processWhatsApp(
  q: Queryable,
  deps: ProcessDeps,
  body: unknown,
  receivedAt: Date,
): Promise<WhatsAppSummary> {
  const payload = parseWhatsAppPayload(body);
  const summary: WhatsAppSummary = {
    inbound: 0,
    identityChanges: 0,
    duplicates: 0,
    unroutable: 0,
    statuses: { applied: 0, stale: 0, ignored: 0, unmatched: 0, duplicate: 0 },
  };
  const tenants = new Map<string, string | null>();
  const tenantOf = async (phoneNumberId: string) => {
    if (!tenants.has(phoneNumberId))
      tenants.set(phoneNumberId, await tenantForPhoneNumber(q, deps.config, phoneNumberId));
    return tenants.get(phoneNumberId) ?? null;
  };
  const unroutable = (phoneNumberId: string, what: string) => {
    summary.unroutable++;
    deps.metrics.webhookUnroutable.inc({ provider: 'whatsapp' });
    deps.logger.warn(
      { phoneNumberId: phoneNumberId.slice(0, 32), what },
      'WhatsApp webhook for a phone_number_id that no tenant owns',
    );
  };

  for (const m of payload.messages) {
    const tenantId = await tenantOf(m.phoneNumberId);
    if (!tenantId) unroutable(m.phoneNumberId, 'message');
    const id = await storeInbound(
      q,
      {
        tenantId,
        provider: 'whatsapp',
        externalId: m.id,
        sender: m.from,
        senderName: m.senderName,
        type: m.type,
        text: m.text,
        raw: m.raw,
        sentAt: m.sentAt,
        receivedAt,
        senderIds: {
          userId: m.sender.userId,
          parentUserId: m.sender.parentUserId,
          username: m.sender.username,
        },
      },
      deps.redactor,
    );
    if (!id) {
      summary.duplicates++;
      continue;
    }
    summary.inbound++;
    // The customer wrote: the 24-hour customer-service window of their contact (phone, BSUID or
    // both) opens from the message's own time (never from the future, whatever the payload claims).
    if (tenantId) {
      const at = m.sentAt && m.sentAt.getTime() < Date.now() ? m.sentAt : new Date();
      await recordInbound(q, tenantId, m.sender, at);
    }
  }

  // System messages: a changed phone number or BSUID moves the contact, and its window, along.
  for (const c of payload.identityChanges) {
    const tenantId = await tenantOf(c.phoneNumberId);
    if (!tenantId) {
      unroutable(c.phoneNumberId, 'system');
      continue;
    }
    // Meta re-posts a delivery it did not see acknowledged: the change is applied once per message id.
    const fresh = await insertSystemInbound(q, {
      id: randomUUID(),
      tenantId,
      externalId: c.id,
      sender: c.from.waId ?? c.from.userId ?? c.from.parentUserId,
      kind: c.kind,
      sentAt: c.at?.toISOString() ?? null,
      receivedAt: receivedAt.toISOString(),
      senderUserId: c.from.userId,
    });
    if (!fresh) {
      summary.duplicates++;
      continue;
    }
    await moveContact(q, tenantId, c.from, c.to);
    summary.identityChanges++;
  }

  for (const s of payload.statuses) {
    // Statuses are matched by wamid (Meta-issued, unique): every tenant sends through the
    // configured number, so the number's tenant does not narrow the match; an unknown number does.
    const ours =
      s.phoneNumberId === deps.config.env.WHATSAPP_PHONE_NUMBER_ID ||
      (await tenantOf(s.phoneNumberId)) !== null;
    if (!ours) {
      unroutable(s.phoneNumberId, 'status');
      continue;
    }
    const outcome = await recordStatus(q, s);
    summary.statuses[outcome]++;
  }
  return summary;
}

/** Stores a status once per (wamid, status) and applies it; 'duplicate' when it was seen before. */
async function recordStatus(q: Queryable, s: WaStatusReport): Promise<StatusOutcome | 'duplicate'> {
  const fresh = await insertStatusEvent(q, {
    wamid: s.wamid,
    status: s.status,
    recipientId: s.recipientId,
    occurredAt: s.occurredAt?.toISOString() ?? null,
    errorsJson: s.errors.length ? JSON.stringify(s.errors) : null,
    recipientUserId: s.recipientUserId,
    pricingJson: s.pricing ? JSON.stringify(s.pricing) : null,
  });
  if (!fresh) return 'duplicate';
  return settleStatus(q, { wamid: s.wamid, status: s.status, occurredAt: s.occurredAt, errors: s.errors });
}

function statusReason(s: Pick<WaStatusReport, 'status' | 'errors'>): string {
  if (s.status !== 'failed') return `WhatsApp reported ${s.status}`;
  const e = s.errors[0];
  if (!e) return 'WhatsApp reported failed (no error given)';
  const what = [e.title ?? e.message, e.details].filter(Boolean).join(': ');
  return `WhatsApp ${e.code ?? 'error'}${what ? `: ${what}` : ''}`.slice(0, 500);
}

/**
 * Applies a recorded status to the outbox row that carries its wamid. A status never moves a row
 * backwards (read before delivered leaves it read), a dry-run row (mock_sent) is never touched, and
 * "failed" only lands on a row that is still "sent".
 */
export async function settleStatus(
  q: Queryable,
  s: Pick<WaStatusReport, 'wamid' | 'status' | 'occurredAt' | 'errors'>,
): Promise<StatusOutcome> {
  const row = await lockRowByWamid(q, s.wamid);
  let outcome: StatusOutcome;
  if (!row) {
    outcome = 'unmatched';
  } else if (row.status === 'mock_sent') {
    outcome = 'ignored';
  } else {
    const to: Status = s.status;
    const allowed =
      to === 'failed'
        ? row.status === 'sent'
        : isForwardProgress(row.status, to) && canTransition(row.status, to);
    if (!allowed) {
      outcome = 'stale';
    } else {
      const code = s.errors[0]?.code;
      const moved = await transitionRow(q, {
        tenantId: row.tenant_id,
        id: row.id,
        from: row.status,
        to,
        actor: WEBHOOK_ACTOR_WHATSAPP,
        action: 'provider_status',
        reason: statusReason(s),
        detail: {
          wamid: s.wamid,
          status: s.status,
          occurredAt: s.occurredAt?.toISOString() ?? null,
          ...(s.errors.length ? { errors: s.errors } : {}),
        },
        // A failure Meta reports after accepting the message is not retried on its own: the owner
        // sees Meta's code and decides (retry from the panel).
        set:
          to === 'failed'
            ? {
                lastErrorCode: code === null || code === undefined ? 'whatsapp_failed' : String(code),
                nextAttemptAt: null,
              }
            : {},
      });
      outcome = moved ? 'applied' : 'stale';
    }
  }
  await settleStatusEvent(q, {
    wamid: s.wamid,
    status: s.status,
    outcome,
    tenantId: row?.tenant_id ?? null,
    outboxId: row?.id ?? null,
  });
  return outcome;
}

const RANK: ReadonlyMap<string, number> = new Map([
  ['sent', 1],
  ['delivered', 2],
  ['read', 3],
  ['failed', 4],
]);

/**
 * Meta can report a status before the dispatcher has recorded the send (and with it the wamid):
 * such statuses wait as unmatched and are applied here once a row carries their wamid, in progress
 * order. After `windowMs` they are left as they are.
 */
export async function retryUnmatched(q: Queryable, windowMs: number): Promise<number> {
  const found = await matchableStatusEvents<WaStatusReport['status'], WaStatusReport['errors'][number]>(
    q,
    windowMs,
  );
  const rows = found.sort((a, b) =>
    a.wamid === b.wamid ? (RANK.get(a.status) ?? 0) - (RANK.get(b.status) ?? 0) : a.wamid < b.wamid ? -1 : 1,
  );
  let applied = 0;
  for (const e of rows) {
    const outcome = await settleStatus(q, {
      wamid: e.wamid,
      status: e.status,
      occurredAt: e.occurred_at ? new Date(e.occurred_at) : null,
      errors: e.errors ?? [],
    });
    if (outcome === 'applied') applied++;
  }
  return applied;
}
