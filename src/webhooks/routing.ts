import type { Config } from '../config/config.ts';
import type { Queryable } from '../store/driver.ts';
import { tenantOfChat, tenantOfPhoneNumber, upsertPhoneNumber } from '../store/sql/webhook-routing.ts';

/**
 * The tenant a WhatsApp phone_number_id belongs to: a row of tenant_whatsapp_numbers, else — for
 * the number configured in WHATSAPP_PHONE_NUMBER_ID — the demo (default) tenant when it exists.
 * null means unroutable.
 */
export async function tenantForPhoneNumber(
  q: Queryable,
  config: Config,
  phoneNumberId: string,
): Promise<string | null> {
  if (!phoneNumberId) return null;
  return tenantOfPhoneNumber(
    q,
    phoneNumberId,
    phoneNumberId === config.env.WHATSAPP_PHONE_NUMBER_ID,
    config.defaultTenant,
  );
}

/** Maps a phone_number_id to a tenant (operator action: mupza-comms whatsapp map-number). */
export async function mapPhoneNumber(q: Queryable, phoneNumberId: string, tenantId: string): Promise<void> {
  await upsertPhoneNumber(q, phoneNumberId, tenantId);
}

/** The tenant a Telegram chat is linked to (the most recent link when several tenants share it). */
export async function tenantForChat(q: Queryable, chatId: string | null): Promise<string | null> {
  if (!chatId) return null;
  return tenantOfChat(q, chatId);
}
