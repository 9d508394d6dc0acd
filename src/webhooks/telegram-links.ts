import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { hashToken } from '../store/tokens.ts';
import {
  insertLink,
  lockLink,
  markLinkUsed,
  upsertTelegramContact,
  type LinkRow,
} from '../store/sql/telegram-links.ts';

/** A link token is good for 15 minutes: long enough to open Telegram, short enough to be stale if leaked. */
export const LINK_TTL_MS = 15 * 60_000;

export type { LinkRow };

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
      await insertLink(q, {
        id,
        tokenHash: hashToken(token),
        tenantId: o.tenantId,
        ownerSubject: o.ownerSubject,
        expiresAt,
      });
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
  { kind: 'linked'; link: LinkRow } | { kind: 'used' | 'expired'; link: LinkRow } | { kind: 'unknown' };

/**
 * Uses a token for a chat: the row is locked, so two /start deliveries of one token race to a
 * single winner. The lookup is by SHA-256 of the token (an index probe on the hash, not a
 * comparison of the secret itself).
 */
export async function consumeLink(q: Queryable, token: string, chatId: string): Promise<ConsumeResult> {
  const row = await lockLink(q, hashToken(token));
  if (!row) return { kind: 'unknown' };
  const { expired, ...link } = row;
  if (link.used_at) return { kind: 'used', link };
  if (expired) return { kind: 'expired', link };
  await markLinkUsed(q, link.id, chatId);
  return { kind: 'linked', link };
}

/** Links (or re-links) a chat to the owner of a tenant. */
export async function upsertContact(
  q: Queryable,
  c: { tenantId: string; chatId: string; ownerSubject: string; linkId: string; firstName: string | null },
): Promise<void> {
  await upsertTelegramContact(q, c);
}
