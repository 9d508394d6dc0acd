import { createHmac } from 'node:crypto';
import { safeEqual } from '../core/secret-compare.ts';

/** X-Hub-Signature-256 as Meta sends it: "sha256=" and 64 hex digits. */
const HEADER_RE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks Meta's X-Hub-Signature-256: HMAC-SHA256 of the raw request bytes with the app secret,
 * compared in constant time. The header's form is checked before any HMAC work; `onHmac` is told
 * each time a digest is computed (so tests can prove an oversized body never got this far).
 */
export function verifyMetaSignature(
  raw: Buffer,
  header: string | string[] | undefined,
  appSecret: string | undefined,
  onHmac?: () => void,
): boolean {
  if (!appSecret || typeof header !== 'string') return false;
  const m = HEADER_RE.exec(header.trim());
  if (!m) return false;
  onHmac?.();
  const expected = createHmac('sha256', appSecret).update(raw).digest('hex');
  return safeEqual(expected, m[1]!.toLowerCase());
}

/** Both Telegram secrets (path segment and header) compared in constant time; no short-circuit. */
export function verifyTelegramSecret(
  pathSecret: string | undefined,
  header: string | string[] | undefined,
  configured: string | undefined,
): boolean {
  if (!configured) return false;
  const pathOk = safeEqual(pathSecret ?? '', configured);
  const headerOk = safeEqual(typeof header === 'string' ? header : '', configured);
  return pathOk && headerOk;
}
