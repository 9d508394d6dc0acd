import { randomUUID } from 'node:crypto';
import { hasIdentity, identityOfTarget, waTargetKind, type WaIdentity } from '../core/wa-identity.ts';
import type { Queryable } from '../store/driver.ts';
import {
  deleteContacts,
  insertContact,
  lastInboundBy,
  lockClashingContacts,
  lockContactByParent,
  lockContactsByIds,
  moveContactIds,
  setContact,
  type ContactRow,
} from '../store/sql/wa-contacts.ts';

/** Meta's customer-service window: free-text messages only within 24 h of the customer's last message. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** A phone number or wa_id as Meta's wa_id: digits only. */
export function waIdOf(phone: string): string {
  return phone.replace(/\D/g, '');
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
  let rows = await lockContactsByIds(q, tenantId, who.waId, who.userId);
  // A parent BSUID is shared by several businesses' contacts: it joins only when nothing else does.
  if (rows.length === 0 && who.parentUserId && !who.waId && !who.userId) {
    rows = await lockContactByParent(q, tenantId, who.parentUserId);
  }
  if (rows.length === 0) {
    const id = randomUUID();
    await insertContact(q, id, tenantId, who, at?.toISOString() ?? null);
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
    await deleteContacts(
      q,
      others.map((o) => o.id),
    );
  await setContact(q, keep.id, {
    waId: who.waId ?? merged.waId,
    userId: who.userId ?? merged.userId,
    parentUserId: who.parentUserId ?? merged.parentUserId,
    username: who.username ?? merged.username,
    lastInboundAt: last?.toISOString() ?? null,
  });
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
  const clash = await lockClashingContacts(q, tenantId, id, to.waId ?? null, to.userId ?? null);
  let last: Date | null = null;
  for (const c of clash) last = later(last, c.last_inbound_at);
  if (clash.length)
    await deleteContacts(
      q,
      clash.map((c) => c.id),
    );
  await moveContactIds(q, id, to, last?.toISOString() ?? null);
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
  const raw = await lastInboundBy(q, tenantId, column, value);
  if (raw === null) return { open: false, lastInboundAt: null, closesAt: null };
  const last = new Date(raw);
  const closesAt = new Date(last.getTime() + WINDOW_MS);
  return { open: closesAt.getTime() > now.getTime(), lastInboundAt: last, closesAt };
}
