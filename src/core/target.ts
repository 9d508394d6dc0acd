import { DEVICE_ID_RE, isDeviceRole } from './devices.ts';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { Channel } from './channels.ts';
import { AppError } from './errors.ts';
import { isBsuidTarget } from './wa-identity.ts';

// A practical address check: one @, no spaces, a dotted domain. Full RFC 5322 parsing is the SMTP
// server's job; this refuses obvious garbage before it becomes a row.
const EMAIL_RE =
  /^[^\s@<>()[\]\\,;:"]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const TELEGRAM_CHAT_RE = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/;

export function normalizeE164(raw: string): string {
  if (!/^\+[1-9]\d{6,14}$/.test(raw.replace(/[\s-]/g, ''))) {
    throw new AppError('invalid_phone', 'The target must be an E.164 phone number like +994501234567.');
  }
  try {
    const p = parsePhoneNumberWithError(raw);
    if (!p.isValid()) throw new Error('invalid');
    return p.number;
  } catch {
    throw new AppError('invalid_phone', 'The target must be a valid E.164 phone number like +994501234567.');
  }
}

export function isEmail(raw: string): boolean {
  return EMAIL_RE.test(raw);
}

/** Validates and normalises a target for its channel; throws an AppError with a stable code. */
export function normalizeTarget(channel: Channel, raw: string): string {
  const t = raw.trim();
  switch (channel) {
    case 'otp_sms':
      return normalizeE164(t);
    case 'whatsapp':
      // A customer who adopted a username may be reachable only by their business-scoped user id.
      if (isBsuidTarget(t)) return t;
      try {
        return normalizeE164(t);
      } catch {
        throw new AppError(
          'invalid_phone',
          'A WhatsApp target is an E.164 phone number like +994501234567 or a business-scoped user id like US.13491208655302741918.',
        );
      }
    case 'email':
      if (!isEmail(t)) throw new AppError('invalid_email', 'The target must be an email address.');
      return t.toLowerCase();
    case 'telegram':
      if (!TELEGRAM_CHAT_RE.test(t)) {
        throw new AppError('invalid_target', 'A Telegram target is a numeric chat id or an @username.');
      }
      return t;
    case 'in_app': {
      if (t.startsWith('role:')) {
        const role = t.slice(5);
        if (!isDeviceRole(role)) {
          throw new AppError('invalid_target', 'An in_app role target is role:pos|waiter|kitchen|printer.');
        }
        return t;
      }
      if (!DEVICE_ID_RE.test(t)) {
        throw new AppError(
          'invalid_target',
          'An in_app target is a device id (like pos-desktop-01) or role:<role>.',
        );
      }
      return t;
    }
  }
}
