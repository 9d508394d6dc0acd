/**
 * Reads a WhatsApp Cloud API webhook body (PROVIDERS.md section 3) into the inbound messages and
 * delivery statuses it carries, per phone_number_id. Pure: no I/O. The payload is signed by Meta,
 * but its shape is still checked field by field; anything unexpected is skipped, never thrown.
 */

export type WaStatus = 'sent' | 'delivered' | 'read' | 'failed';
const WA_STATUSES: readonly string[] = ['sent', 'delivered', 'read', 'failed'];

export interface WaInbound {
  phoneNumberId: string;
  id: string;
  from: string;
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
}

export interface WaPayload {
  messages: WaInbound[];
  statuses: WaStatusReport[];
  /** Statuses with a status value this service does not track (e.g. new Meta values). */
  skipped: number;
}

const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, max = 4096): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null);

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
  const out: WaPayload = { messages: [], statuses: [], skipped: 0 };
  const root = obj(body);
  if (!root) return out;
  for (const entry of arr(root.entry)) {
    for (const change of arr(obj(entry)?.changes)) {
      const c = obj(change);
      const value = obj(c?.value);
      if (!c || !value || (c.field !== undefined && c.field !== 'messages')) continue;
      const phoneNumberId = str(obj(value.metadata)?.phone_number_id, 64) ?? '';
      const names = new Map<string, string>();
      for (const contact of arr(value.contacts)) {
        const k = obj(contact);
        const waId = str(k?.wa_id, 32);
        const name = str(obj(k?.profile)?.name, 200);
        if (waId && name) names.set(waId, name);
      }
      for (const message of arr(value.messages)) {
        const m = obj(message);
        const id = str(m?.id, 256);
        const from = str(m?.from, 64);
        if (!m || !id || !from) continue;
        const type = typeof m.type === 'string' && /^[a-z_]{1,32}$/.test(m.type) ? m.type : 'unknown';
        out.messages.push({
          phoneNumberId,
          id,
          from,
          senderName: names.get(from) ?? null,
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
