import type { Queryable } from '../driver.ts';

/**
 * The tenant mapped to a WhatsApp phone_number_id, else `fallbackTenant` when `useFallback` and
 * that tenant exists.
 */
export async function tenantOfPhoneNumber(
  q: Queryable,
  phoneNumberId: string,
  useFallback: boolean,
  fallbackTenant: string,
): Promise<string | null> {
  const r = await q.query<{ tenant_id: string }>(
    `SELECT tenant_id, 0 AS pref FROM tenant_whatsapp_numbers WHERE phone_number_id = $1
     UNION ALL
     SELECT id, 1 FROM tenants WHERE $2::boolean AND id = $3
     ORDER BY pref LIMIT 1`,
    [phoneNumberId, useFallback, fallbackTenant],
  );
  return r.rows[0]?.tenant_id ?? null;
}

export async function upsertPhoneNumber(
  q: Queryable,
  phoneNumberId: string,
  tenantId: string,
): Promise<void> {
  await q.query(
    `INSERT INTO tenant_whatsapp_numbers (phone_number_id, tenant_id) VALUES ($1, $2)
     ON CONFLICT (phone_number_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, created_at = now()`,
    [phoneNumberId, tenantId],
  );
}

/** The tenant most recently linked to a Telegram chat. */
export async function tenantOfChat(q: Queryable, chatId: string): Promise<string | null> {
  const r = await q.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM telegram_contacts WHERE chat_id = $1 ORDER BY linked_at DESC LIMIT 1',
    [chatId],
  );
  return r.rows[0]?.tenant_id ?? null;
}

/** Records the URL a webhook was registered with (secret left out); returns when. */
export async function saveWebhookRegistration(q: Queryable, provider: string, url: string): Promise<Date> {
  const r = await q.query<{ registered_at: Date }>(
    `INSERT INTO webhook_registrations (provider, url, registered_at) VALUES ($1, $2, now())
     ON CONFLICT (provider) DO UPDATE SET url = EXCLUDED.url, registered_at = now() RETURNING registered_at`,
    [provider, url],
  );
  return new Date(r.rows[0]!.registered_at);
}

export async function webhookRegistration(
  q: Queryable,
  provider: string,
): Promise<{ url: string; registered_at: Date } | null> {
  const r = await q.query<{ url: string; registered_at: Date }>(
    'SELECT url, registered_at FROM webhook_registrations WHERE provider = $1',
    [provider],
  );
  return r.rows[0] ?? null;
}
