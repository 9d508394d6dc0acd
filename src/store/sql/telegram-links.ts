import type { Queryable } from '../driver.ts';

export interface LinkRow {
  id: string;
  tenant_id: string;
  owner_subject: string;
  expires_at: Date;
  used_at: Date | null;
}

export async function insertLink(
  q: Queryable,
  l: { id: string; tokenHash: string; tenantId: string; ownerSubject: string; expiresAt: Date },
): Promise<void> {
  await q.query(
    'INSERT INTO telegram_links (id, token_hash, tenant_id, owner_subject, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [l.id, l.tokenHash, l.tenantId, l.ownerSubject, l.expiresAt.toISOString()],
  );
}

/** The link with this token hash, locked, and whether it has expired. */
export async function lockLink(
  q: Queryable,
  tokenHash: string,
): Promise<(LinkRow & { expired: boolean }) | null> {
  const r = await q.query<LinkRow & { expired: boolean }>(
    `SELECT id::text, tenant_id, owner_subject, expires_at, used_at, expires_at <= now() AS expired
     FROM telegram_links WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  return r.rows[0] ?? null;
}

export async function markLinkUsed(q: Queryable, id: string, chatId: string): Promise<void> {
  await q.query('UPDATE telegram_links SET used_at = now(), used_chat_id = $2 WHERE id = $1', [id, chatId]);
}

export async function upsertTelegramContact(
  q: Queryable,
  c: { tenantId: string; chatId: string; ownerSubject: string; linkId: string; firstName: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO telegram_contacts (tenant_id, chat_id, owner_subject, link_id, first_name) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, chat_id) DO UPDATE
       SET owner_subject = EXCLUDED.owner_subject, link_id = EXCLUDED.link_id, first_name = EXCLUDED.first_name, linked_at = now()`,
    [c.tenantId, c.chatId, c.ownerSubject, c.linkId, c.firstName],
  );
}
