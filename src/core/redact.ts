/**
 * Redaction: the one place that knows how to hide configured env values. Secrets (tokens,
 * passwords) are replaced whole with [REDACTED]; identifiers (account and service SIDs, the
 * WhatsApp phone number id, the SMTP account) are masked to a recognisable stub, VA…9f3c. Each
 * value is found in the common encodings it takes in URLs, Basic auth headers and JSON.
 */
import { isBsuidTarget, maskBsuid } from './wa-identity.ts';

export const REDACTED = '[REDACTED]';

export interface Redactor {
  /** Replace every secret value and mask every identifier in a string. */
  scrub(text: string): string;
  /**
   * Replace secret values only, leaving identifiers whole: for provider data the service still
   * has to read (a webhook's phone_number_id routes it to its tenant).
   */
  scrubSecrets(text: string): string;
  /** Names of the secrets and identifiers found in a string (for metrics and logs). */
  findNames(text: string): string[];
  /** Names of the secrets (not identifiers) found in a string: owner text carrying one is refused. */
  findSecretNames(text: string): string[];
  /** Deep-scrub any JSON-like value. */
  scrubValue<T>(value: T): T;
  readonly size: number;
}

interface Needle {
  name: string;
  value: string;
  replacement: string;
  secret: boolean;
}

// Values shorter than this are not treated as secrets: scrubbing "1" or "on" would shred text.
const MIN_SECRET_LENGTH = 4;
// Identifiers are searched in free text only from this length: a short one ("mailer") would
// mask ordinary words ("Nodemailer"). Real SIDs and phone number ids are 15-34 characters.
export const MIN_IDENTIFIER_LENGTH = 8;

function variants(value: string, minLength: number): string[] {
  const out = new Set<string>([value]);
  out.add(encodeURIComponent(value));
  out.add(JSON.stringify(value).slice(1, -1));
  out.add(Buffer.from(value, 'utf8').toString('base64'));
  return [...out].filter((v) => v.length >= minLength);
}

/** The shown stub of an env-sourced identifier: its first 2 and last 4 characters (2 when short). */
export function maskIdentifier(value: string): string {
  if (value.length < 6) return '…';
  return `${value.slice(0, 2)}…${value.slice(value.length >= 12 ? -4 : -2)}`;
}

export function createRedactor(
  secrets: Record<string, string | undefined>,
  identifiers: Record<string, string | undefined> = {},
): Redactor {
  const needles: Needle[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    for (const v of variants(value, MIN_SECRET_LENGTH))
      needles.push({ name, value: v, replacement: REDACTED, secret: true });
  }
  for (const [name, value] of Object.entries(identifiers)) {
    if (!value || value.length < MIN_IDENTIFIER_LENGTH) continue;
    const masked = maskIdentifier(value);
    for (const v of variants(value, MIN_IDENTIFIER_LENGTH))
      needles.push({ name, value: v, replacement: masked, secret: false });
  }
  // Longest first so a secret containing another is replaced whole.
  needles.sort((a, b) => b.value.length - a.value.length);

  const scrub = (text: string, secretsOnly = false): string => {
    let out = text;
    for (const n of needles) {
      if ((n.secret || !secretsOnly) && out.includes(n.value)) out = out.split(n.value).join(n.replacement);
    }
    return out;
  };

  const findNames = (text: string, secretsOnly = false): string[] => {
    const names = new Set<string>();
    for (const n of needles) if ((n.secret || !secretsOnly) && text.includes(n.value)) names.add(n.name);
    return [...names];
  };

  const scrubValue = <T>(value: T): T => {
    if (needles.length === 0) return value;
    if (typeof value === 'string') return scrub(value) as T;
    if (Array.isArray(value)) return value.map((v) => scrubValue(v)) as T;
    if (value && typeof value === 'object') {
      // fromEntries defines own properties: a "__proto__" key stays a key instead of setting the prototype.
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [scrub(k), scrubValue(v)]),
      ) as T;
    }
    return value;
  };

  return {
    scrub: (text) => scrub(text),
    scrubSecrets: (text) => scrub(text, true),
    findNames: (text) => findNames(text),
    findSecretNames: (text) => findNames(text, true),
    scrubValue,
    size: needles.length,
  };
}

/**
 * Masks a target for lists: phone +994 ••• ••• 01, email o•••@example.local, Telegram chat id
 * 12 ••• 89 or @n•••er. Telegram targets need the channel: an @username is not an email.
 */
export function maskTarget(target: string, channel?: string): string {
  if (channel === 'telegram') return maskTelegramChat(target);
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

/** A Telegram chat: a numeric id (negative for groups) or a public @username. */
function maskTelegramChat(chat: string): string {
  const id = /^(-?)(\d+)$/.exec(chat);
  if (id) {
    const digits = id[2]!;
    return digits.length < 5 ? '•••' : `${id[1]}${digits.slice(0, 2)} ••• ${digits.slice(-2)}`;
  }
  const name = chat.startsWith('@') ? chat.slice(1) : chat;
  return name.length < 4 ? '@•••' : `@${name.slice(0, 1)}•••${name.slice(-2)}`;
}

// Query parameters whose values are credentials: device and owner tokens, verify tokens, keys,
// signatures, passwords. Their values never reach a log line, whatever they hold.
const CREDENTIAL_PARAM = /token|auth|key|secret|pass|signature|sig$|code$/i;

/** A request URL for logs: the value of every credential-like query parameter is [REDACTED]. */
export function redactUrlQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is matched as written.
      }
      return eq >= 0 && CREDENTIAL_PARAM.test(key) ? `${rawKey}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}
