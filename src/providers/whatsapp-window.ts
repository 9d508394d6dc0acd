import { randomUUID } from 'node:crypto';
import { hasIdentity, identityOfTarget, waTargetKind, type WaIdentity } from '../core/wa-identity.ts';
import type { Queryable } from '../store/driver.ts';

/** Meta's customer-service window: free-text messages only within 24 h of the customer's last message. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** A phone number or wa_id as Meta's wa_id: digits only. */
export function waIdOf(phone: string): string {
  return phone.replace(/\D/g, '');
}

interface ContactRow {
  id: string;
  wa_id: string | null;
  user_id: string | null;
  parent_user_id: string | null;
  username: string | null;
  last_inbound_at: Date | string | null;
}

const later = (a: Date | string | null, b: Date | string | null): Date | null => {
  const x = a === null ? null : new Date(a);
  const y = b === null ? null : new Date(b);
  if (!x) return y;
  if (!y) return x;
  return x.getTime() >= y.getTime() ? x : y;
};

/**
 * Finds (or creates) the tenant's contact for an identity and folds every identifier it carries
 * into it, merging contacts that turn out to be the same person (a phone-only contact from before
 * BSUIDs and a BSUID-only one). Runs in the caller's transaction; rows are locked in id order.
 * `at` (an inbound message's time) moves the window forward, never back.
 */
export async function upsertContact(
  q: Queryable,
  tenantId: string,
  who: WaIdentity,
  at: Date | null = null,
): Promise<string | null> {
  if (!hasIdentity(who)) return null;
  const r = await q.query<ContactRow>(
    `SELECT id::text, wa_id, user_id, parent_user_id, username, last_inbound_at FROM whatsapp_contacts
     WHERE tenant_id = $1 AND ((wa_id IS NOT NULL AND wa_id = $2) OR (user_id IS NOT NULL AND user_id = $3))
     ORDER BY created_at, id FOR UPDATE`,
    [tenantId, who.waId, who.userId],
  );
  // A parent BSUID is shared by several businesses' contacts: it joins only when nothing else does.
  let rows = r.rows;
  if (rows.length === 0 && who.parentUserId && !who.waId && !who.userId) {
    rows = (
      await q.query<ContactRow>(
        `SELECT id::text, wa_id, user_id, parent_user_id, username, last_inbound_at FROM whatsapp_contacts
         WHERE tenant_id = $1 AND parent_user_id = $2 ORDER BY created_at, id LIMIT 1 FOR UPDATE`,
        [tenantId, who.parentUserId],
      )
    ).rows;
  }
  if (rows.length === 0) {
    const id = randomUUID();
    await q.query(
      `INSERT INTO whatsapp_contacts (id, tenant_id, wa_id, user_id, parent_user_id, username, last_inbound_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, tenantId, who.waId, who.userId, who.parentUserId, who.username, at?.toISOString() ?? null],
    );
    return id;
  }
  const [keep, ...others] = rows as [ContactRow, ...ContactRow[]];
  let last = later(keep.last_inbound_at, at);
  const merged = {
    waId: keep.wa_id,
    userId: keep.user_id,
    parentUserId: keep.parent_user_id,
    username: keep.username,
  };
  for (const o of others) {
    last = later(last, o.last_inbound_at);
    merged.waId ??= o.wa_id;
    merged.userId ??= o.user_id;
    merged.parentUserId ??= o.parent_user_id;
    merged.username ??= o.username;
  }
  if (others.length)
    await q.query('DELETE FROM whatsapp_contacts WHERE id = ANY($1::uuid[])', [others.map((o) => o.id)]);
  await q.query(
    `UPDATE whatsapp_contacts SET wa_id = $2, user_id = $3, parent_user_id = $4, username = $5, last_inbound_at = $6, updated_at = now() WHERE id = $1`,
    [
      keep.id,
      who.waId ?? merged.waId,
      who.userId ?? merged.userId,
      who.parentUserId ?? merged.parentUserId,
      who.username ?? merged.username,
      last?.toISOString() ?? null,
    ],
  );
  return keep.id;
}

/**
 * Records an inbound message from a customer (called by the webhook processor in the transaction
 * that stores the message). `who` is a phone/wa_id string or a full identity. Out-of-order
 * deliveries never move the window back.
 */
export async function recordInbound(
  q: Queryable,
  tenantId: string,
  who: string | WaIdentity,
  at: Date,
): Promise<void> {
  const identity = typeof who === 'string' ? identityOfTarget(who) : who;
  await upsertContact(q, tenantId, identity, at);
}

/**
 * A customer changed their phone number (system webhook `user_changed_number`) or Meta changed
 * their BSUID (`user_changed_user_id`): the contact that carried the old identifier now carries
 * the new one, with its window. When the new identifier already had a contact, the two merge.
 */
export async function moveContact(
  q: Queryable,
  tenantId: string,
  from: WaIdentity,
  to: Partial<WaIdentity>,
): Promise<string | null> {
  const id = await upsertContact(q, tenantId, from);
  if (!id) return null;
  const clash = await q.query<ContactRow>(
    `SELECT id::text, wa_id, user_id, parent_user_id, username, last_inbound_at FROM whatsapp_contacts
     WHERE tenant_id = $1 AND id <> $2 AND ((wa_id IS NOT NULL AND wa_id = $3) OR (user_id IS NOT NULL AND user_id = $4)) FOR UPDATE`,
    [tenantId, id, to.waId ?? null, to.userId ?? null],
  );
  let last: Date | null = null;
  for (const c of clash.rows) last = later(last, c.last_inbound_at);
  if (clash.rows.length)
    await q.query('DELETE FROM whatsapp_contacts WHERE id = ANY($1::uuid[])', [clash.rows.map((c) => c.id)]);
  await q.query(
    `UPDATE whatsapp_contacts SET
       wa_id = CASE WHEN $2::boolean THEN $3 ELSE wa_id END,
       user_id = CASE WHEN $4::boolean THEN $5 ELSE user_id END,
       parent_user_id = COALESCE($6, parent_user_id),
       last_inbound_at = GREATEST(last_inbound_at, $7::timestamptz), updated_at = now()
     WHERE id = $1`,
    [
      id,
      to.waId !== undefined && to.waId !== null,
      to.waId ?? null,
      to.userId !== undefined && to.userId !== null,
      to.userId ?? null,
      to.parentUserId ?? null,
      last?.toISOString() ?? null,
    ],
  );
  return id;
}

export interface WindowState {
  open: boolean;
  lastInboundAt: Date | null;
  /** When the window closes (or closed); null when the recipient never wrote. */
  closesAt: Date | null;
}

/** The window of the contact a target addresses: a phone (E.164 or wa_id digits), a BSUID or a parent BSUID. */
export async function windowState(
  q: Queryable,
  tenantId: string,
  target: string,
  now: Date = new Date(),
): Promise<WindowState> {
  const kind = waTargetKind(target);
  const column = kind === 'bsuid' ? 'user_id' : kind === 'parent_bsuid' ? 'parent_user_id' : 'wa_id';
  const value = kind === 'phone' ? waIdOf(target) : target;
  const r = await q.query<{ last_inbound_at: Date | string | null }>(
    `SELECT max(last_inbound_at) AS last_inbound_at FROM whatsapp_contacts WHERE tenant_id = $1 AND ${column} = $2`,
    [tenantId, value],
  );
  const raw = r.rows[0]?.last_inbound_at;
  if (raw === undefined || raw === null) return { open: false, lastInboundAt: null, closesAt: null };
  const last = new Date(raw);
  const closesAt = new Date(last.getTime() + WINDOW_MS);
  return { open: closesAt.getTime() > now.getTime(), lastInboundAt: last, closesAt };
}
