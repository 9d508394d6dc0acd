/**
 * Server text in the panel's language.
 *
 * Errors carry a stable code ({error, message}): they are translated by that code alone
 * (`error.<code>`), never by their English message.
 *
 * Outbox and audit reasons carry no code: the API returns the dispatcher's English sentence
 * (src/core/gate.ts, src/dispatch/lane.ts, src/otp/…). The known sentence shapes are
 * recognised here and rebuilt from the dictionaries; anything unrecognised stays as the server
 * wrote it. Either way the page keeps the server wording next to the translation.
 */
import { isMessageKey, translate, type Lang, type MessageKey, type Params } from './index.ts';

/** The translation of an API error code, or null when the code is not known. */
export function translateErrorCode(lang: Lang, code: string): string | null {
  const key = `error.${code}`;
  return isMessageKey(key) ? translate(lang, key) : null;
}

const label = (lang: Lang, prefix: string, value: string): string => {
  const key = prefix + value;
  return isMessageKey(key) ? translate(lang, key) : value;
};

/** One clause of a "waiting for …" or "dry-run: …" reason. */
function part(lang: Lang, text: string): string | null {
  let m: RegExpExecArray | null;
  if ((m = /^tenant opt-in for (\w+)$/.exec(text)))
    return translate(lang, 'reason.part.optIn', { channel: label(lang, 'channel.', m[1]!) });
  if ((m = /^provider env (.+)$/.exec(text))) return translate(lang, 'reason.part.env', { names: m[1]! });
  if ((m = /^runtime is (\w+), not production$/.exec(text)))
    return translate(lang, 'reason.part.runtime', { runtime: label(lang, 'runtime.', m[1]!) });
  if (text === 'COMMS_EXTERNAL_SENDS is disabled') return translate(lang, 'reason.part.externalSendsOff');
  if (text === 'adapter pinned to dry-run by COMMS_DRY_RUN_ADAPTERS')
    return translate(lang, 'reason.part.pinned');
  return null;
}

function parts(lang: Lang, text: string, separator: string, joiner: string): string | null {
  const out = text.split(separator).map((p) => part(lang, p.trim()));
  return out.every((p) => p !== null) ? out.join(joiner) : null;
}

type Rule = [RegExp, (m: RegExpExecArray, lang: Lang) => string | null];

const fixed = (key: MessageKey, params?: (m: RegExpExecArray) => Params) => {
  return (m: RegExpExecArray, lang: Lang) => translate(lang, key, params?.(m));
};

const RULES: Rule[] = [
  [
    /^OTP provider env is not configured \(missing (.+)\); OTP is never queued$/,
    (m, lang) => {
      const missing = parts(lang, m[1]!, ' and ', translate(lang, 'reason.and'));
      return missing === null ? null : translate(lang, 'reason.otpEnvMissing', { missing });
    },
  ],
  [/^missing tenant opt-in for otp_sms; OTP is never queued$/, fixed('reason.otpOptIn')],
  [/^the Twilio Verify env is incomplete; OTP is never queued$/, fixed('reason.otpTwilioEnv')],
  [
    /^OTP provider unavailable \(([^)]+)\); OTP is never queued$/,
    fixed('reason.otpUnavailable', (m) => ({ code: m[1]! })),
  ],
  [
    /^(.+); an OTP cannot be dry-run, and OTP is never queued$/,
    (m, lang) => {
      const why = translateReason(lang, m[1]!);
      return why === null ? null : translate(lang, 'reason.otpNoDryRun', { why });
    },
  ],
  [
    /^OTP is online only, not retried later: ([\w.-]+): /,
    fixed('reason.otpNoRetry', (m) => ({ code: m[1]! })),
  ],
  [
    /^waiting for (.+)$/,
    (m, lang) => {
      const what = parts(lang, m[1]!, ' and ', translate(lang, 'reason.and'));
      return what === null ? null : translate(lang, 'reason.waiting', { what });
    },
  ],
  [
    /^dry-run: (.+)$/,
    (m, lang) => {
      const why = parts(lang, m[1]!, '; ', '; ');
      return why === null ? null : translate(lang, 'reason.dryRun', { why });
    },
  ],
  [/^LAN hub delivers locally$/, fixed('reason.lanLocal')],
  [/^every live-send condition holds$/, fixed('reason.liveOk')],
  [/^handed to the LAN hub$/, fixed('reason.lanHanded')],
  [/^accepted by the provider$/, fixed('reason.providerAccepted')],
  [/^acknowledged by every target device$/, fixed('reason.ackedAll')],
  [/^tenant no longer exists$/, fixed('reason.noTenant')],
  [/^time to live passed before sending$/, fixed('reason.ttl')],
  [/^lease expired: /, fixed('reason.leaseExpired')],
  [/^released at shutdown/, fixed('reason.released')],
  [
    /^attempts exhausted \((\d+)\); last error ([\w.-]+): /,
    fixed('reason.exhausted', (m) => ({ n: m[1]!, code: m[2]! })),
  ],
  [/^([\w.-]+): .*; retry in ([\d.]+) s$/s, fixed('reason.retryIn', (m) => ({ code: m[1]!, s: m[2]! }))],
  [/^cancelled by (.+)$/, fixed('reason.cancelledBy', (m) => ({ actor: m[1]! }))],
  [/^([a-z][\w.-]*): \S/, fixed('reason.providerError', (m) => ({ code: m[1]! }))],
];

/** A reason from the API in `lang`; null when the sentence is not one the panel knows. */
export function translateReason(lang: Lang, reason: string): string | null {
  for (const [re, build] of RULES) {
    const m = re.exec(reason);
    if (m) return build(m, lang);
  }
  return null;
}
