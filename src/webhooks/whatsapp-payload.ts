/**
 * Reads a WhatsApp Cloud API webhook body (PROVIDERS.md section 3) into the inbound messages and
 * delivery statuses it carries, per phone_number_id. Pure: no I/O. The payload is signed by Meta,
 * but its shape is still checked field by field; anything unexpected is skipped, never thrown.
 */

import {
  bsuidOrNull,
  hasIdentity,
  parentBsuidOrNull,
  usernameOrNull,
  waIdOrNull,
  type WaIdentity,
} from '../core/wa-identity.ts';

export type WaStatus = 'sent' | 'delivered' | 'read' | 'failed';
const WA_STATUSES: readonly string[] = ['sent', 'delivered', 'read', 'failed'];

export interface WaInbound {
  phoneNumberId: string;
  id: string;
  /** The phone (wa_id) when Meta sent one, else the BSUID (a username customer may have no phone here). */
  from: string;
  /** Every identifier the message carried for its sender (phone, BSUID, parent BSUID, username). */
  sender: WaIdentity;
  senderName: string | null;
  type: string;
  text: string | null;
  /** The provider's timestamp (epoch seconds in the payload); null when absent or invalid. */
  sentAt: Date | null;
  raw: Record<string, unknown>;
}

export interface WaStatusReport {
  phoneNumberId: string;
  wamid: string;
  status: WaStatus;
  recipientId: string | null;
  occurredAt: Date | null;
  errors: { code: number | null; title: string | null; message: string | null; details: string | null }[];
  /** The recipient's business-scoped user id (2026 statuses carry it, sent to a phone or not). */
  recipientUserId: string | null;
  /** Meta's per-message pricing object, when the status carries one (sent/delivered/read). */
  pricing: WaPricing | null;
}

export interface WaPricing {
  billable: boolean | null;
  /** PMP (per-message pricing, since July 2025) or CBP (the older conversation-based model). */
  pricingModel: string | null;
  /** marketing, utility, authentication, service, … */
  category: string | null;
  /** regular, free_customer_service, free_entry_point, … */
  type: string | null;
}

/**
 * A system message (`type: "system"`): the customer changed their number or Meta changed their
 * business-scoped user id. The contact that carried `from` now carries `to`.
 */
export interface WaIdentityChange {
  phoneNumberId: string;
  id: string;
  kind: 'user_changed_number' | 'user_changed_user_id';
  from: WaIdentity;
  to: Partial<WaIdentity>;
  at: Date | null;
}

export interface WaPayload {
  messages: WaInbound[];
  identityChanges: WaIdentityChange[];
  statuses: WaStatusReport[];
  /** Statuses with a status value this service does not track (e.g. new Meta values). */
  skipped: number;
}

const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, max = 4096): string | null =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null;

export function epochSeconds(v: unknown): Date | null {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : '';
  if (!/^\d{1,12}$/.test(s)) return null;
  return new Date(Number(s) * 1000);
}

/** The human-readable part of an inbound message of any type (text, button, list, caption, …). */
export function inboundText(m: Record<string, unknown>): string | null {
  const type = typeof m.type === 'string' ? m.type : '';
  // Own property only: `type` is the sender's word ("constructor" must not reach the prototype).
  const inner = type && Object.hasOwn(m, type) ? obj(m[type]) : null;
  switch (type) {
    case 'text':
      return str(inner?.body);
    case 'button':
      // A quick-reply button of a template: the label, and the payload the business attached.
      return str(inner?.text) ?? str(inner?.payload);
    case 'interactive': {
      const reply = obj(inner?.button_reply) ?? obj(inner?.list_reply) ?? obj(inner?.nfm_reply);
      return str(reply?.title) ?? str(reply?.id) ?? str(reply?.body);
    }
    case 'reaction':
      return str(inner?.emoji);
    case 'location':
      return str(inner?.name) ?? str(inner?.address);
    default:
      return str(inner?.caption);
  }
}

export function parseWhatsAppPayload(body: unknown): WaPayload {
  const out: WaPayload = { messages: [], identityChanges: [], statuses: [], skipped: 0 };
  const root = obj(body);
  if (!root) return out;
  for (const entry of arr(root.entry)) {
    for (const change of arr(obj(entry)?.changes)) {
      const c = obj(change);
      const value = obj(c?.value);
      if (!c || !value || (c.field !== undefined && c.field !== 'messages')) continue;
      const phoneNumberId = str(obj(value.metadata)?.phone_number_id, 64) ?? '';
      // contacts[] carries the sender's identifiers; a username customer may come without wa_id.
      const contacts: { ids: WaIdentity; name: string | null }[] = [];
      for (const contact of arr(value.contacts)) {
        const k = obj(contact);
        const profile = obj(k?.profile);
        const ids: WaIdentity = {
          waId: waIdOrNull(k?.wa_id),
          userId: bsuidOrNull(k?.user_id),
          parentUserId: parentBsuidOrNull(k?.parent_user_id),
          username: usernameOrNull(profile?.username ?? k?.username),
        };
        if (hasIdentity(ids)) contacts.push({ ids, name: str(profile?.name, 200) });
      }
      const contactOf = (waId: string | null, userId: string | null) =>
        contacts.find(
          (c) => (waId !== null && c.ids.waId === waId) || (userId !== null && c.ids.userId === userId),
        ) ?? (contacts.length === 1 && waId === null && userId === null ? contacts[0] : undefined);
      for (const message of arr(value.messages)) {
        const m = obj(message);
        const id = str(m?.id, 256);
        if (!m || !id) continue;
        const fromWa = waIdOrNull(m.from);
        const fromUser = bsuidOrNull(m.from_user_id) ?? bsuidOrNull(m.user_id);
        const c = contactOf(fromWa, fromUser);
        const sender: WaIdentity = {
          waId: fromWa ?? c?.ids.waId ?? null,
          userId: fromUser ?? c?.ids.userId ?? null,
          parentUserId: parentBsuidOrNull(m.from_parent_user_id) ?? c?.ids.parentUserId ?? null,
          username: c?.ids.username ?? null,
        };
        // Number/BSUID changes move the contact; any other system message is recorded like a message.
        const change = m.type === 'system' ? identityChange(phoneNumberId, id, m, sender) : null;
        if (change) {
          out.identityChanges.push(change);
          continue;
        }
        // A `from` Meta formats unexpectedly is still a sender (as before BSUIDs); it just joins no contact.
        const from = sender.waId ?? sender.userId ?? sender.parentUserId ?? str(m.from, 64);
        if (!from) continue;
        const type = typeof m.type === 'string' && /^[a-z_]{1,32}$/.test(m.type) ? m.type : 'unknown';
        out.messages.push({
          phoneNumberId,
          id,
          from,
          sender,
          senderName: c?.name ?? null,
          type,
          text: inboundText(m),
          sentAt: epochSeconds(m.timestamp),
          raw: m,
        });
      }
      for (const status of arr(value.statuses)) {
        const s = obj(status);
        const wamid = str(s?.id, 256);
        if (!s || !wamid) continue;
        if (typeof s.status !== 'string' || !WA_STATUSES.includes(s.status)) {
          out.skipped++;
          continue;
        }
        out.statuses.push({
          phoneNumberId,
          wamid,
          status: s.status as WaStatus,
          recipientId: str(s.recipient_id, 64),
          recipientUserId: bsuidOrNull(s.recipient_user_id),
          pricing: pricingOf(s.pricing),
          occurredAt: epochSeconds(s.timestamp),
          errors: arr(s.errors).flatMap((e) => {
            const x = obj(e);
            if (!x) return [];
            return [
              {
                code: typeof x.code === 'number' && Number.isInteger(x.code) ? x.code : null,
                title: str(x.title, 200),
                message: str(x.message, 500),
                details: str(obj(x.error_data)?.details, 500),
              },
            ];
          }),
        });
      }
    }
  }
  return out;
}

function pricingOf(v: unknown): WaPricing | null {
  const p = obj(v);
  if (!p) return null;
  const word = (x: unknown) => (typeof x === 'string' && /^[A-Za-z_]{1,40}$/.test(x) ? x : null);
  return {
    billable: typeof p.billable === 'boolean' ? p.billable : null,
    pricingModel: word(p.pricing_model),
    category: word(p.category),
    type: word(p.type),
  };
}

/** Reads a system message; null for system types this service does not act on. */
function identityChange(
  phoneNumberId: string,
  id: string,
  m: Record<string, unknown>,
  sender: WaIdentity,
): WaIdentityChange | null {
  const sys = obj(m.system);
  const kind = sys?.type;
  if (!sys || (kind !== 'user_changed_number' && kind !== 'user_changed_user_id')) return null;
  // Since August 2026 both system types name the old BSUIDs in system.previous_user_id and
  // system.previous_parent_user_id (Meta changelog, 2026-08-11); earlier payloads left the old
  // BSUID on the message (from_user_id), which `sender` already holds.
  const prevUser = bsuidOrNull(sys.previous_user_id);
  const prevParent = parentBsuidOrNull(sys.previous_parent_user_id);
  const from: WaIdentity = {
    ...sender,
    ...(prevUser ? { userId: prevUser } : {}),
    ...(prevParent ? { parentUserId: prevParent } : {}),
  };
  if (!hasIdentity(from)) return null;
  const to: Partial<WaIdentity> = {};
  const waId = waIdOrNull(sys.wa_id);
  const userId = bsuidOrNull(sys.user_id);
  const parent = parentBsuidOrNull(sys.parent_user_id);
  if (kind === 'user_changed_number' && waId) to.waId = waId;
  // A new phone number comes with a new BSUID (docs/providers.md); either system type may carry it.
  if (userId) to.userId = userId;
  if (parent) to.parentUserId = parent;
  if (Object.keys(to).length === 0) return null;
  return { phoneNumberId, id, kind, from, to, at: epochSeconds(m.timestamp) };
}
