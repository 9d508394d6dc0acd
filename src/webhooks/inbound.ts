import { randomUUID } from 'node:crypto';
import { encodeCursor, type Cursor } from '../core/cursor.ts';
import type { Redactor } from '../core/redact.ts';
import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { exactUtcText } from '../store/sql/cursor.ts';
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
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k, redactor), cleanJson(v, redactor, depth + 1)]));
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
export async function storeInbound(q: Queryable, m: InboundInput, redactor: Redactor): Promise<string | null> {
  const id = randomUUID();
  const actor = `webhook:${m.provider}`;
  const r = await q.query<{ id: string }>(
    `WITH ins AS (
       INSERT INTO inbound_messages (id, tenant_id, provider, external_id, sender, sender_name, type, text, raw, sent_at, received_at,
                                     sender_user_id, sender_parent_user_id, sender_username)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
       ON CONFLICT (provider, external_id) DO NOTHING RETURNING id, tenant_id, provider, type
     )
     SELECT id::text, pg_notify('${INBOUND_CHANNEL}', json_build_object('t', tenant_id, 'id', id, 'p', provider, 'type', type)::text)
     FROM ins`,
    [
      id,
      m.tenantId,
      m.provider,
      m.externalId,
      cleanText(m.sender, redactor),
      m.senderName === null ? null : cleanText(m.senderName, redactor),
      m.type,
      m.text === null ? null : cleanText(m.text, redactor),
      JSON.stringify(cleanJson(m.raw, redactor)),
      m.sentAt?.toISOString() ?? null,
      m.receivedAt.toISOString(),
      m.senderIds?.userId ?? null,
      m.senderIds?.parentUserId ?? null,
      m.senderIds?.username ?? null,
    ],
  );
  if (!r.rows[0]) return null;
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

export interface InboundRow {
  id: string;
  provider: WebhookProvider;
  external_id: string;
  sender: string;
  sender_name: string | null;
  type: string;
  text: string | null;
  raw?: unknown;
  sent_at: Date | null;
  received_at: Date;
  processed_at: Date;
}

const LIST_COLUMNS = 'id::text, provider, external_id, sender, sender_name, type, text, sent_at, received_at, processed_at';

/** One page of a tenant's inbound messages, newest first (run inside a tenant-scoped transaction). */
export async function listInbound(
  q: Queryable,
  tenantId: string,
  f: { provider?: WebhookProvider; limit: number; after: Cursor | null },
): Promise<{ items: InboundRow[]; nextCursor: string | null }> {
  const r = await q.query<InboundRow & { cursor_at: string }>(
    `SELECT ${LIST_COLUMNS}, ${exactUtcText('received_at')} AS cursor_at FROM inbound_messages
     WHERE tenant_id = $1 AND ($2::text IS NULL OR provider = $2)
       AND ($3::timestamptz IS NULL OR (received_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY received_at DESC, id DESC LIMIT $5`,
    [tenantId, f.provider ?? null, f.after?.at ?? null, f.after?.id ?? null, f.limit + 1],
  );
  const page = r.rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { items: page.map(({ cursor_at: _c, ...row }) => row), nextCursor: r.rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null };
}

export async function getInbound(q: Queryable, tenantId: string, id: string): Promise<InboundRow | null> {
  const r = await q.query<InboundRow>(`SELECT ${LIST_COLUMNS}, raw FROM inbound_messages WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return r.rows[0] ?? null;
}
