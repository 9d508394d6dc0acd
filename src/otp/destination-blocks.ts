import { AppError } from '../core/errors.ts';
import type { Queryable } from '../store/driver.ts';
import { firstBlockedCode, insertBlockEvent } from '../store/sql/otp-destination-blocks.ts';
import type { OtpPhone } from './phone.ts';

/**
 * Twilio refusals that hold for a range of numbers, not one number: 60410 (Fraud Guard blocks the
 * prefix for 12 h) and 60605 (Geo Permissions refuse the country). Only an owner's start reaches
 * Twilio, so without a memory an owner would get 403 while a stranger in the same range gets the
 * decoy's 202 — an answer that tells owners apart. Once a range is known blocked, every start in
 * it is refused the same way before the owner lookup: same 403, same body, no provider call.
 *
 * Remembered as rows of otp_rate_events (key `blocked:<code>:<range>`), which already spans
 * tenants and processes, survives restarts and is pruned after a day.
 */
interface BlockRule {
  code: number;
  windowS: number;
  range(p: OtpPhone): string;
}

const RULES: readonly BlockRule[] = [
  // Twilio does not publish the prefix length; the number without its last four digits is the
  // usual "prefix" of SMS-pumping detection (a range of 10,000 numbers).
  { code: 60410, windowS: 12 * 3_600, range: (p) => p.e164.slice(0, -4) },
  // A Geo Permissions change is an operator's console setting: checked again after an hour.
  { code: 60605, windowS: 3_600, range: (p) => p.dialCode },
];

const keyOf = (r: BlockRule, p: OtpPhone) => `blocked:${r.code}:${r.range(p)}`;

/** Twilio codes whose refusal covers a range of numbers (remembered), for the error mapping. */
export function isRangeBlock(providerCode: string | number | undefined): boolean {
  return RULES.some((r) => r.code === Number(providerCode));
}

/** Remembers that Twilio refused `phone`'s range with `providerCode` (no-op for other codes). */
export async function rememberBlock(
  q: Queryable,
  p: OtpPhone,
  providerCode: string | number,
  nowMs: number,
): Promise<void> {
  const rule = RULES.find((r) => r.code === Number(providerCode));
  if (rule) await insertBlockEvent(q, keyOf(rule, p), new Date(nowMs));
}

/** The Twilio code of a remembered block covering `phone`, or null. */
export async function findBlock(q: Queryable, p: OtpPhone, nowMs: number): Promise<number | null> {
  return firstBlockedCode(
    q,
    RULES.map((r) => ({ code: r.code, key: keyOf(r, p), windowS: r.windowS })),
    new Date(nowMs),
  );
}

/** The answer to a start in a blocked range: the same whether the phone is an owner's or not. */
export function blockedError(providerCode: string | number): AppError {
  const code = `twilio_${providerCode}`;
  return new AppError(
    'destination_not_allowed',
    `The OTP provider refuses to send to this number (${code}).`,
    {
      details: { reason: code },
    },
  );
}
