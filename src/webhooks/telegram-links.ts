import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { hashToken } from '../store/tokens.ts';

/** A link token is good for 15 minutes: long enough to open Telegram, short enough to be stale if leaked. */
export const LINK_TTL_MS = 15 * 60_000;

export interface LinkRow {
  id: string;
  tenant_id: string;
  owner_subject: string;
  expires_at: Date;
  used_at: Date | null;
}

/** The t.me deep link that opens the bot with /start <token>; null without a bot username. */
export function deepLink(botUsername: string | undefined, token: string): string | null {
  if (!botUsername) return null;
  return `https://t.me/${encodeURIComponent(botUsername.replace(/^@/, ''))}?start=${token}`;
}

/**
 * Creates a single-use link token for an owner. Only its hash is stored; the token is shown once.
 * 24 random bytes in base64url are 32 characters of A-Z a-z 0-9 _ -, inside Telegram's 64-character
 * deep-link payload rule.
 */
export async function createLink(
  db: Db,
  o: { tenantId: string; ownerSubject: string; actor: string; now?: Date },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = randomBytes(24).toString('base64url');
  const id = randomUUID();
  const expiresAt = new Date((o.now ?? new Date()).getTime() + LINK_TTL_MS);
  await db.tx(
    async (q) => {
      await q.query(
        'INSERT INTO telegram_links (id, token_hash, tenant_id, owner_subject, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [id, hashToken(token), o.tenantId, o.ownerSubject, expiresAt.toISOString()],
      );
      await appendAudit(q, [
        {
          tenantId: o.tenantId,
          entity: 'telegram_link',
          entityId: id,
          actor: o.actor,
          action: 'created',
          to: 'pending',
          reason: `Telegram link token created, expires ${expiresAt.toISOString()}`,
        },
      ]);
    },
    { tenantId: o.tenantId },
  );
  return { id, token, expiresAt };
}

export type ConsumeResult =
  | { kind: 'linked'; link: LinkRow }
  | { kind: 'used' | 'expired'; link: LinkRow }
  | { kind: 'unknown' };

/**
 * Uses a token for a chat: the row is locked, so two /start deliveries of one token race to a
 * single winner. The lookup is by SHA-256 of the token (an index probe on the hash, not a
 * comparison of the secret itself).
 */
export async function consumeLink(q: Queryable, token: string, chatId: string): Promise<ConsumeResult> {
  const r = await q.query<LinkRow & { expired: boolean }>(
    `SELECT id::text, tenant_id, owner_subject, expires_at, used_at, expires_at <= now() AS expired
     FROM telegram_links WHERE token_hash = $1 FOR UPDATE`,
    [hashToken(token)],
  );
  const row = r.rows[0];
  if (!row) return { kind: 'unknown' };
  const { expired, ...link } = row;
  if (link.used_at) return { kind: 'used', link };
  if (expired) return { kind: 'expired', link };
  await q.query('UPDATE telegram_links SET used_at = now(), used_chat_id = $2 WHERE id = $1', [link.id, chatId]);
  return { kind: 'linked', link };
}

/** Links (or re-links) a chat to the owner of a tenant. */
export async function upsertContact(
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
