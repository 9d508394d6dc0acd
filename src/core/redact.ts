/**
 * Redaction: the one place that knows how to hide secret values. It is built from the list of
 * configured secret values (never logged) and replaces each occurrence, including the common
 * encodings a value takes in URLs, Basic auth headers and JSON.
 */
import { isBsuidTarget, maskBsuid } from './wa-identity.ts';

export const REDACTED = '[REDACTED]';

export interface Redactor {
  /** Replace every secret value in a string. */
  scrub(text: string): string;
  /** Names of the secrets found in a string (for metrics and logs). */
  findNames(text: string): string[];
  /** Deep-scrub any JSON-like value. */
  scrubValue<T>(value: T): T;
  readonly size: number;
}

interface Needle {
  name: string;
  value: string;
}

// Values shorter than this are not treated as secrets: scrubbing "1" or "on" would shred text.
const MIN_SECRET_LENGTH = 4;

function variants(value: string): string[] {
  const out = new Set<string>([value]);
  out.add(encodeURIComponent(value));
  out.add(JSON.stringify(value).slice(1, -1));
  out.add(Buffer.from(value, 'utf8').toString('base64'));
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

export function createRedactor(secrets: Record<string, string | undefined>): Redactor {
  const needles: Needle[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    for (const v of variants(value)) needles.push({ name, value: v });
  }
  // Longest first so a secret containing another is replaced whole.
  needles.sort((a, b) => b.value.length - a.value.length);

  const scrub = (text: string): string => {
    let out = text;
    for (const n of needles) {
      if (out.includes(n.value)) out = out.split(n.value).join(REDACTED);
    }
    return out;
  };

  const findNames = (text: string): string[] => {
    const names = new Set<string>();
    for (const n of needles) if (text.includes(n.value)) names.add(n.name);
    return [...names];
  };

  const scrubValue = <T>(value: T): T => {
    if (needles.length === 0) return value;
    if (typeof value === 'string') return scrub(value) as T;
    if (Array.isArray(value)) return value.map((v) => scrubValue(v)) as T;
    if (value && typeof value === 'object') {
      // fromEntries defines own properties: a "__proto__" key stays a key instead of setting the prototype.
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [scrub(k), scrubValue(v)])) as T;
    }
    return value;
  };

  return { scrub, findNames, scrubValue, size: needles.length };
}

/** Masks a phone number or email for lists: +994 ••• ••• 01, o•••@example.local. */
export function maskTarget(target: string): string {
  if (target.includes('@')) {
    const [user = '', domain = ''] = target.split('@');
    return `${user.slice(0, 1)}•••@${domain}`;
  }
  if (/^\+\d{6,}$/.test(target)) {
    return `${target.slice(0, 4)} ••• ••• ${target.slice(-2)}`;
  }
  // WhatsApp business-scoped user ids identify a person as a phone number does.
  if (isBsuidTarget(target)) return maskBsuid(target);
  return target;
}
