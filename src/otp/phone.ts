import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { AppError } from '../core/errors.ts';
import { normalizeE164 } from '../core/target.ts';

export interface OtpPhone {
  /** E.164, e.g. +994501234567. */
  e164: string;
  /** Country calling code with its plus, e.g. +994 (the per-dial-code limit counts by it). */
  dialCode: string;
}

const LOOSE_E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Normalises the phone of an OTP start. QA test numbers are taken as configured (Firebase-style
 * fictional numbers need not be valid numbers); every other phone must be a valid E.164 number.
 */
export function parseOtpPhone(raw: string, testNumbers: ReadonlyMap<string, string>): OtpPhone {
  const compact = raw.replace(/[\s-]/g, '');
  if (testNumbers.has(compact)) return { e164: compact, dialCode: dialCodeOf(compact) };
  let e164: string;
  try {
    e164 = normalizeE164(raw.trim());
  } catch {
    throw new AppError('invalid_phone', 'phone: must be a valid E.164 number like +994501234567.', {
      details: { field: 'phone' },
    });
  }
  return { e164, dialCode: dialCodeOf(e164) };
}

export function dialCodeOf(e164: string): string {
  if (!LOOSE_E164.test(e164))
    throw new AppError('invalid_phone', 'The phone must be an E.164 number like +994501234567.');
  try {
    return `+${parsePhoneNumberWithError(e164).countryCallingCode}`;
  } catch {
    // A fictional test number with an unknown code: its first digits stand in for the code.
    return e164.slice(0, 4);
  }
}

/** The tenant's destination allow-list: a phone must start with one of the prefixes. */
export function allowedDestination(e164: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p.length > 1 && e164.startsWith(p));
}
