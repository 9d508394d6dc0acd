import type { Queryable } from '../driver.ts';
import { exactUtcText } from './cursor.ts';

export interface InboundRow {
  id: string;
  provider: 'whatsapp' | 'telegram';
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

/** An inbound message as stored (text already cleaned, raw as JSON text). */
export interface InboundValues {
  id: string;
  tenantId: string | null;
  provider: string;
  externalId: string;
  sender: string;
  senderName: string | null;
  type: string;
  text: string | null;
  rawJson: string;
  sentAt: string | null;
  receivedAt: string;
  senderUserId: string | null;
  senderParentUserId: string | null;
  senderUsername: string | null;
}

/**
 * Inserts the message once per (provider, external id) and NOTIFYs `channel` in the same statement;
 * false for a duplicate.
 */
export async function insertInbound(q: Queryable, channel: string, m: InboundValues): Promise<boolean> {
  const r = await q.query<{ id: string }>(
    `WITH ins AS (
       INSERT INTO inbound_messages (id, tenant_id, provider, external_id, sender, sender_name, type, text, raw, sent_at, received_at,
                                     sender_user_id, sender_parent_user_id, sender_username)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
       ON CONFLICT (provider, external_id) DO NOTHING RETURNING id, tenant_id, provider, type
     )
     SELECT id::text, pg_notify('${channel}', json_build_object('t', tenant_id, 'id', id, 'p', provider, 'type', type)::text)
     FROM ins`,
    [
      m.id,
      m.tenantId,
      m.provider,
      m.externalId,
      m.sender,
      m.senderName,
      m.type,
      m.text,
      m.rawJson,
      m.sentAt,
      m.receivedAt,
      m.senderUserId,
      m.senderParentUserId,
      m.senderUsername,
    ],
  );
  return r.rows.length > 0;
}

const LIST_COLUMNS =
  'id::text, provider, external_id, sender, sender_name, type, text, sent_at, received_at, processed_at';

/** Up to `limit` of a tenant's inbound messages before a cursor, newest first, with their exact cursor time. */
export async function inboundPage(
  q: Queryable,
  tenantId: string,
  f: { provider: string | null; afterAt: string | null; afterId: string | null; limit: number },
): Promise<(InboundRow & { cursor_at: string })[]> {
  const r = await q.query<InboundRow & { cursor_at: string }>(
    `SELECT ${LIST_COLUMNS}, ${exactUtcText('received_at')} AS cursor_at FROM inbound_messages
     WHERE tenant_id = $1 AND ($2::text IS NULL OR provider = $2)
       AND ($3::timestamptz IS NULL OR (received_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY received_at DESC, id DESC LIMIT $5`,
    [tenantId, f.provider, f.afterAt, f.afterId, f.limit],
  );
  return r.rows;
}

export async function inboundById(q: Queryable, tenantId: string, id: string): Promise<InboundRow | null> {
  const r = await q.query<InboundRow>(
    `SELECT ${LIST_COLUMNS}, raw FROM inbound_messages WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return r.rows[0] ?? null;
}
