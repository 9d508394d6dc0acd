/**
 * WhatsApp user identities (docs/providers.md, "Business-scoped user ids"). Since spring 2026 Meta
 * identifies a customer by a business-scoped user id (BSUID, `user_id`, e.g.
 * `US.13491208655302741918`: a two-letter country code, a dot, up to 128 letters and digits), an
 * optional parent BSUID (`parent_user_id`, `US.ENT.…`) and, for customers who adopted a username,
 * possibly no phone number at all. Pure: no I/O.
 */

export const BSUID_RE = /^[A-Z]{2}\.[A-Za-z0-9]{1,128}$/;
export const PARENT_BSUID_RE = /^[A-Z]{2}\.ENT\.[A-Za-z0-9]{1,128}$/;
const WA_ID_RE = /^[0-9]{5,20}$/;
// Usernames are display handles; kept only as a label, never used to address a message.
const USERNAME_RE = /^@?[A-Za-z0-9._-]{1,64}$/;

export type WaTargetKind = 'phone' | 'bsuid' | 'parent_bsuid';

/** What a WhatsApp target (an outbox row's target) addresses: a phone (E.164) or a (parent) BSUID. */
export function waTargetKind(target: string): WaTargetKind {
  if (PARENT_BSUID_RE.test(target)) return 'parent_bsuid';
  if (BSUID_RE.test(target)) return 'bsuid';
  return 'phone';
}

export function isBsuidTarget(target: string): boolean {
  return waTargetKind(target) !== 'phone';
}

/** Every identifier one webhook item may carry for a customer; at least one is set. */
export interface WaIdentity {
  /** Phone number as Meta's wa_id (digits only). */
  waId: string | null;
  userId: string | null;
  parentUserId: string | null;
  username: string | null;
}

export const waIdOrNull = (v: unknown): string | null =>
  typeof v === 'string' && WA_ID_RE.test(v) ? v : null;
export const bsuidOrNull = (v: unknown): string | null =>
  typeof v === 'string' && BSUID_RE.test(v) && !PARENT_BSUID_RE.test(v) ? v : null;
export const parentBsuidOrNull = (v: unknown): string | null =>
  typeof v === 'string' && PARENT_BSUID_RE.test(v) ? v : null;
export const usernameOrNull = (v: unknown): string | null =>
  typeof v === 'string' && USERNAME_RE.test(v) ? v : null;

export function hasIdentity(i: WaIdentity): boolean {
  return i.waId !== null || i.userId !== null || i.parentUserId !== null;
}

/** The identity an outbox target names (phone digits, or the BSUID as given). */
export function identityOfTarget(target: string): WaIdentity {
  const kind = waTargetKind(target);
  return {
    waId: kind === 'phone' ? target.replace(/\D/g, '') : null,
    userId: kind === 'bsuid' ? target : null,
    parentUserId: kind === 'parent_bsuid' ? target : null,
    username: null,
  };
}

/** Masks a BSUID for lists like a phone: the country prefix and the last two characters. */
export function maskBsuid(id: string): string {
  const prefix = PARENT_BSUID_RE.test(id) ? id.slice(0, 7) : id.slice(0, 3);
  return `${prefix}••• ••• ${id.slice(-2)}`;
}
