import type { Queryable } from '../driver.ts';
import type { Status } from '../../core/status.ts';

/**
 * Records a system change (number or BSUID) as an inbound message, once per message id; false when
 * it was recorded before.
 */
export async function insertSystemInbound(
  q: Queryable,
  m: {
    id: string;
    tenantId: string;
    externalId: string;
    sender: string | null;
    kind: string;
    sentAt: string | null;
    receivedAt: string;
    senderUserId: string | null;
  },
): Promise<boolean> {
  const r = await q.query(
    `INSERT INTO inbound_messages (id, tenant_id, provider, external_id, sender, type, text, raw, sent_at, received_at, sender_user_id)
     VALUES ($9, $1, 'whatsapp', $2, $3, 'system', $4, $5::jsonb, $6, $7, $8) ON CONFLICT (provider, external_id) DO NOTHING RETURNING id`,
    [
      m.tenantId,
      m.externalId,
      m.sender,
      m.kind,
      JSON.stringify({ kind: m.kind }),
      m.sentAt,
      m.receivedAt,
      m.senderUserId,
      m.id,
    ],
  );
  return r.rowCount > 0;
}

/** Stores a status once per (wamid, status) as unmatched; false when it was seen before. */
export async function insertStatusEvent(
  q: Queryable,
  s: {
    wamid: string;
    status: string;
    recipientId: string | null;
    occurredAt: string | null;
    errorsJson: string | null;
    recipientUserId: string | null;
    pricingJson: string | null;
  },
): Promise<boolean> {
  const r = await q.query(
    `INSERT INTO whatsapp_status_events (wamid, status, recipient_id, occurred_at, errors, outcome, recipient_user_id, pricing)
     VALUES ($1, $2, $3, $4, $5::jsonb, 'unmatched', $6, $7::jsonb) ON CONFLICT (wamid, status) DO NOTHING RETURNING wamid`,
    [s.wamid, s.status, s.recipientId, s.occurredAt, s.errorsJson, s.recipientUserId, s.pricingJson],
  );
  return r.rowCount > 0;
}

/** The WhatsApp outbox row carrying a wamid, locked. */
export async function lockRowByWamid(
  q: Queryable,
  wamid: string,
): Promise<{ id: string; tenant_id: string; status: Status } | null> {
  const r = await q.query<{ id: string; tenant_id: string; status: Status }>(
    `SELECT id::text, tenant_id, status FROM outbox WHERE provider_message_id = $1 AND channel = 'whatsapp' LIMIT 1 FOR UPDATE`,
    [wamid],
  );
  return r.rows[0] ?? null;
}

/** Records how a status event was settled (an unmatched one stays unsettled). */
export async function settleStatusEvent(
  q: Queryable,
  e: { wamid: string; status: string; outcome: string; tenantId: string | null; outboxId: string | null },
): Promise<void> {
  await q.query(
    `UPDATE whatsapp_status_events SET outcome = $3, tenant_id = $4, outbox_id = $5, settled_at = CASE WHEN $3 = 'unmatched' THEN NULL ELSE now() END
     WHERE wamid = $1 AND status = $2`,
    [e.wamid, e.status, e.outcome, e.tenantId, e.outboxId],
  );
}

/** Unmatched status events younger than `windowMs` whose wamid is now on an outbox row (at most 500). */
export async function matchableStatusEvents<S extends string, E>(
  q: Queryable,
  windowMs: number,
): Promise<{ wamid: string; status: S; occurred_at: Date | null; errors: E[] | null }[]> {
  const r = await q.query<{ wamid: string; status: S; occurred_at: Date | null; errors: E[] | null }>(
    `SELECT e.wamid, e.status, e.occurred_at, e.errors FROM whatsapp_status_events e
     WHERE e.outcome = 'unmatched' AND e.received_at > now() - ($1::bigint * interval '1 millisecond')
       AND EXISTS (SELECT 1 FROM outbox o WHERE o.provider_message_id = e.wamid AND o.channel = 'whatsapp')
     LIMIT 500`,
    [windowMs],
  );
  return r.rows;
}
