import type { WaIdentity } from '../../core/wa-identity.ts';
import type { Queryable } from '../driver.ts';

export interface ContactRow {
  id: string;
  wa_id: string | null;
  user_id: string | null;
  parent_user_id: string | null;
  username: string | null;
  last_inbound_at: Date | string | null;
}

const CONTACT_COLS = 'id::text, wa_id, user_id, parent_user_id, username, last_inbound_at';

/** The tenant's contacts carrying this wa_id or BSUID, locked in creation order. */
export async function lockContactsByIds(
  q: Queryable,
  tenantId: string,
  waId: string | null,
  userId: string | null,
): Promise<ContactRow[]> {
  const r = await q.query<ContactRow>(
    `SELECT ${CONTACT_COLS} FROM whatsapp_contacts
     WHERE tenant_id = $1 AND ((wa_id IS NOT NULL AND wa_id = $2) OR (user_id IS NOT NULL AND user_id = $3))
     ORDER BY created_at, id FOR UPDATE`,
    [tenantId, waId, userId],
  );
  return r.rows;
}

/** The tenant's oldest contact under a parent BSUID, locked. */
export async function lockContactByParent(
  q: Queryable,
  tenantId: string,
  parentUserId: string,
): Promise<ContactRow[]> {
  const r = await q.query<ContactRow>(
    `SELECT ${CONTACT_COLS} FROM whatsapp_contacts
     WHERE tenant_id = $1 AND parent_user_id = $2 ORDER BY created_at, id LIMIT 1 FOR UPDATE`,
    [tenantId, parentUserId],
  );
  return r.rows;
}

/** Other contacts (not `exceptId`) carrying this wa_id or BSUID, locked. */
export async function lockClashingContacts(
  q: Queryable,
  tenantId: string,
  exceptId: string,
  waId: string | null,
  userId: string | null,
): Promise<ContactRow[]> {
  const r = await q.query<ContactRow>(
    `SELECT ${CONTACT_COLS} FROM whatsapp_contacts
     WHERE tenant_id = $1 AND id <> $2 AND ((wa_id IS NOT NULL AND wa_id = $3) OR (user_id IS NOT NULL AND user_id = $4)) FOR UPDATE`,
    [tenantId, exceptId, waId, userId],
  );
  return r.rows;
}

export async function insertContact(
  q: Queryable,
  id: string,
  tenantId: string,
  who: WaIdentity,
  lastInboundAt: string | null,
): Promise<void> {
  await q.query(
    `INSERT INTO whatsapp_contacts (id, tenant_id, wa_id, user_id, parent_user_id, username, last_inbound_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, tenantId, who.waId, who.userId, who.parentUserId, who.username, lastInboundAt],
  );
}

export async function deleteContacts(q: Queryable, ids: readonly string[]): Promise<void> {
  await q.query('DELETE FROM whatsapp_contacts WHERE id = ANY($1::uuid[])', [ids]);
}

/** Overwrites every identifier of a contact and its window. */
export async function setContact(
  q: Queryable,
  id: string,
  c: {
    waId: string | null;
    userId: string | null;
    parentUserId: string | null;
    username: string | null;
    lastInboundAt: string | null;
  },
): Promise<void> {
  await q.query(
    `UPDATE whatsapp_contacts SET wa_id = $2, user_id = $3, parent_user_id = $4, username = $5, last_inbound_at = $6, updated_at = now() WHERE id = $1`,
    [id, c.waId, c.userId, c.parentUserId, c.username, c.lastInboundAt],
  );
}

/**
 * Moves a contact to new identifiers: a null wa_id or BSUID keeps the old one; the window only
 * moves forward.
 */
export async function moveContactIds(
  q: Queryable,
  id: string,
  to: Partial<WaIdentity>,
  lastInboundAt: string | null,
): Promise<void> {
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
      lastInboundAt,
    ],
  );
}

/** The latest inbound time of the tenant's contacts matching one identifier column. */
export async function lastInboundBy(
  q: Queryable,
  tenantId: string,
  column: 'wa_id' | 'user_id' | 'parent_user_id',
  value: string,
): Promise<Date | string | null> {
  const r = await q.query<{ last_inbound_at: Date | string | null }>(
    `SELECT max(last_inbound_at) AS last_inbound_at FROM whatsapp_contacts WHERE tenant_id = $1 AND ${column} = $2`,
    [tenantId, value],
  );
  return r.rows[0]?.last_inbound_at ?? null;
}
