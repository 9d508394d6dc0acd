import { randomUUID } from 'node:crypto';
import { encodeCursor, type Cursor } from '../core/cursor.ts';
import type { Redactor } from '../core/redact.ts';
import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { inboundById, inboundPage, insertInbound, type InboundRow } from '../store/sql/inbound.ts';
import type { WebhookProvider } from './receipts.ts';

/** NOTIFY channel on which every stored inbound message is announced ({t, id, p, type}). */
export const INBOUND_CHANNEL = 'inbound_events';

/**
 * PostgreSQL text cannot hold NUL and jsonb refuses lone surrogates; senders can put both in a
 * message. They are replaced, and configured secret values are scrubbed, before anything is stored.
 */
export function cleanText(s: string, redactor: Redactor): string {
  // Secrets only: identifiers in the payload (phone_number_id) are data the service reads back.
  return redactor.scrubSecrets(s.replace(/\0/g, '\uFFFD').toWellFormed());
}

export function cleanJson(value: unknown, redactor: Redactor, depth = 0): unknown {
  if (depth > 64) return null;
  if (typeof value === 'string') return cleanText(value, redactor);
  if (Array.isArray(value)) return value.map((v) => cleanJson(v, redactor, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [cleanText(k, redactor), cleanJson(v, redactor, depth + 1)]),
    );
  }
  return value;
}

export interface InboundInput {
  tenantId: string | null;
  provider: WebhookProvider;
  externalId: string;
  sender: string;
  senderName: string | null;
  type: string;
  text: string | null;
  raw: unknown;
  sentAt: Date | null;
  receivedAt: Date;
  /** WhatsApp: the sender's business-scoped user id, parent BSUID and username, when Meta sent them. */
  senderIds?: { userId: string | null; parentUserId: string | null; username: string | null };
}

/**
 * Stores one inbound message once per (provider, external id), with its audit event ("received",
 * entity inbound) and a NOTIFY. This is all an inbound message ever does: it is a record, it never
 * approves, voids or changes an order or a payment. Returns the new id, or null for a duplicate.
 */
export async function storeInbound(
  q: Queryable,
  m: InboundInput,
  redactor: Redactor,
): Promise<string | null> {
  const id = randomUUID();
  const actor = `webhook:${m.provider}`;
  const stored = await insertInbound(q, INBOUND_CHANNEL, {
    id,
    tenantId: m.tenantId,
    provider: m.provider,
    externalId: m.externalId,
    sender: cleanText(m.sender, redactor),
    senderName: m.senderName === null ? null : cleanText(m.senderName, redactor),
    type: m.type,
    text: m.text === null ? null : cleanText(m.text, redactor),
    rawJson: JSON.stringify(cleanJson(m.raw, redactor)),
    sentAt: m.sentAt?.toISOString() ?? null,
    receivedAt: m.receivedAt.toISOString(),
    senderUserId: m.senderIds?.userId ?? null,
    senderParentUserId: m.senderIds?.parentUserId ?? null,
    senderUsername: m.senderIds?.username ?? null,
  });
  if (!stored) return null;
  if (m.tenantId) {
    await appendAudit(q, [
      {
        tenantId: m.tenantId,
        entity: 'inbound',
        entityId: id,
        actor,
        action: 'received',
        to: 'recorded',
        reason: `inbound ${m.provider} ${m.type}`,
        detail: { provider: m.provider, externalId: m.externalId, type: m.type },
      },
    ]);
  }
  return id;
}

export type { InboundRow };

/** One page of a tenant's inbound messages, newest first (run inside a tenant-scoped transaction). */
export async function listInbound(
  q: Queryable,
  tenantId: string,
  f: { provider?: WebhookProvider; limit: number; after: Cursor | null },
): Promise<{ items: InboundRow[]; nextCursor: string | null }> {
  const rows = await inboundPage(q, tenantId, {
    provider: f.provider ?? null,
    afterAt: f.after?.at ?? null,
    afterId: f.after?.id ?? null,
    limit: f.limit + 1,
  });
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ cursor_at: _c, ...row }) => row),
    nextCursor: rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}

export async function getInbound(q: Queryable, tenantId: string, id: string): Promise<InboundRow | null> {
  return inboundById(q, tenantId, id);
}
