import { AUTH_CHANGED } from '../store/tokens.ts';
import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import {
  deleteOwnerPhone,
  insertOwnerPhone,
  selectOwnerByPhone,
  updateOtpAllowedPrefixes,
  type OwnerPhone,
} from '../store/sql/otp-owners.ts';

export type { OwnerPhone };

/** The owner a phone belongs to in a tenant, or null. */
export async function findOwnerByPhone(
  q: Queryable,
  tenantId: string,
  phone: string,
): Promise<OwnerPhone | null> {
  return selectOwnerByPhone(q, tenantId, phone);
}

/**
 * Gives an owner a phone to sign in with (audited). Returns false when the phone already belongs
 * to an owner of the tenant (the same one or another): a phone maps to exactly one owner.
 */
export async function addOwnerPhone(
  q: Queryable,
  o: { tenantId: string; ownerId: string; phone: string; actor: string },
): Promise<boolean> {
  if (!(await insertOwnerPhone(q, o))) return false;
  await appendAudit(q, [
    {
      tenantId: o.tenantId,
      entity: 'otp',
      entityId: o.ownerId,
      actor: o.actor,
      action: 'owner_phone_added',
      detail: { phone: o.phone },
    },
  ]);
  return true;
}

/** Takes a sign-in phone away from the tenant's owners (audited); false when no owner has it. */
export async function removeOwnerPhone(
  q: Queryable,
  o: { tenantId: string; phone: string; actor: string },
): Promise<boolean> {
  const ownerId = await deleteOwnerPhone(q, o.tenantId, o.phone);
  if (ownerId === null) return false;
  await appendAudit(q, [
    {
      tenantId: o.tenantId,
      entity: 'otp',
      entityId: ownerId,
      actor: o.actor,
      action: 'owner_phone_removed',
      detail: { phone: o.phone },
    },
  ]);
  return true;
}

export const DEFAULT_OTP_PREFIXES = ['+994'] as const;

/**
 * Sign-in setup of a tenant the operator creates (API `ownerPhone` / `otpAllowedPrefixes`, CLI
 * `--owner-phone` / `--otp-prefixes`): the OTP destination allow-list and the first owner's phone.
 * The caller validates the phone (E.164) and that it is inside the allow-list.
 */
export async function setupOwnerLogin(
  q: Queryable,
  s: {
    tenantId: string;
    ownerId: string;
    phone?: string | undefined;
    prefixes?: readonly string[] | undefined;
    actor: string;
  },
): Promise<void> {
  if (s.prefixes) {
    await updateOtpAllowedPrefixes(q, s.tenantId, s.prefixes);
    q.publish(AUTH_CHANGED, 'tenants');
  }
  if (s.phone)
    await addOwnerPhone(q, { tenantId: s.tenantId, ownerId: s.ownerId, phone: s.phone, actor: s.actor });
}

/** Why an owner phone does not fit the tenant's allow-list, or null. */
export function ownerPhoneProblem(phone: string, prefixes: readonly string[]): string | null {
  return prefixes.some((p) => phone.startsWith(p))
    ? null
    : `ownerPhone must start with one of ${prefixes.join(', ')} (otpAllowedPrefixes)`;
}
