import { DEMO_TENANT } from '../app/demo-seed.ts';
import type { Config } from '../config/config.ts';
import type { Queryable } from '../store/driver.ts';

/**
 * The tenant a WhatsApp phone_number_id belongs to: a row of tenant_whatsapp_numbers, else — for
 * the number configured in WHATSAPP_PHONE_NUMBER_ID — the demo (default) tenant when it exists.
 * null means unroutable.
 */
export async function tenantForPhoneNumber(q: Queryable, config: Config, phoneNumberId: string): Promise<string | null> {
  if (!phoneNumberId) return null;
  const r = await q.query<{ tenant_id: string }>(
    `SELECT tenant_id, 0 AS pref FROM tenant_whatsapp_numbers WHERE phone_number_id = $1
     UNION ALL
     SELECT id, 1 FROM tenants WHERE $2::boolean AND id = $3
     ORDER BY pref LIMIT 1`,
    [phoneNumberId, phoneNumberId === config.env.WHATSAPP_PHONE_NUMBER_ID, DEMO_TENANT.id],
  );
  return r.rows[0]?.tenant_id ?? null;
}

/** Maps a phone_number_id to a tenant (operator action: mupza-comms whatsapp map-number). */
export async function mapPhoneNumber(q: Queryable, phoneNumberId: string, tenantId: string): Promise<void> {
  await q.query(
    `INSERT INTO tenant_whatsapp_numbers (phone_number_id, tenant_id) VALUES ($1, $2)
     ON CONFLICT (phone_number_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, created_at = now()`,
    [phoneNumberId, tenantId],
  );
}

/** The tenant a Telegram chat is linked to (the most recent link when several tenants share it). */
export async function tenantForChat(q: Queryable, chatId: string | null): Promise<string | null> {
  if (!chatId) return null;
  const r = await q.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM telegram_contacts WHERE chat_id = $1 ORDER BY linked_at DESC LIMIT 1',
    [chatId],
  );
  return r.rows[0]?.tenant_id ?? null;
}
