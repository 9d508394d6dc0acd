import type { Queryable } from '../store/driver.ts';

/** Meta's customer-service window: free-text messages only within 24 h of the customer's last message. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** A phone number or wa_id as Meta's wa_id: digits only. */
export function waIdOf(phone: string): string {
  return phone.replace(/\D/g, '');
}

/**
 * Records an inbound message from `waId` (called by the webhook processor in the transaction that
 * stores the inbound message). Out-of-order deliveries never move the window back.
 */
export async function recordInbound(q: Queryable, tenantId: string, waId: string, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO whatsapp_windows (tenant_id, wa_id, last_inbound_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, wa_id) DO UPDATE
       SET last_inbound_at = GREATEST(whatsapp_windows.last_inbound_at, EXCLUDED.last_inbound_at), updated_at = now()`,
    [tenantId, waIdOf(waId), at.toISOString()],
  );
}

export interface WindowState {
  open: boolean;
  lastInboundAt: Date | null;
  /** When the window closes (or closed); null when the recipient never wrote. */
  closesAt: Date | null;
}

export async function windowState(q: Queryable, tenantId: string, waId: string, now: Date = new Date()): Promise<WindowState> {
  const r = await q.query<{ last_inbound_at: Date | string }>(
    'SELECT last_inbound_at FROM whatsapp_windows WHERE tenant_id = $1 AND wa_id = $2',
    [tenantId, waIdOf(waId)],
  );
  const raw = r.rows[0]?.last_inbound_at;
  if (raw === undefined) return { open: false, lastInboundAt: null, closesAt: null };
  const last = new Date(raw);
  const closesAt = new Date(last.getTime() + WINDOW_MS);
  return { open: closesAt.getTime() > now.getTime(), lastInboundAt: last, closesAt };
}
