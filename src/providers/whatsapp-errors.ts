import { clip, fromRule, type Classified, type Rule } from './classify.ts';
import { retryAfterMs } from './http.ts';

export const OUTSIDE_WINDOW_REASON = 'outside 24h window, template required';
export const BSUID_UNSUPPORTED_REASON =
  'business-scoped user id (BSUID) recipients are not supported for this message; send it to a phone number (authentication templates need one)';

/**
 * WhatsApp Cloud API error codes (docs/providers.md, "WhatsApp Cloud API"). Meta advises branching on
 * `error.code` (and `error_data.details`), not on the HTTP status or the subcode. Meta sends no
 * Retry-After, so rate limits wait the table's default.
 */
export const WHATSAPP_RULES: Readonly<Record<number, Rule>> = {
  0: { class: 'permanent', meaning: 'AuthException: the access token is invalid or was invalidated' },
  190: { class: 'permanent', meaning: 'access token expired' },
  10: { class: 'permanent', meaning: 'permission denied' },
  // App-level call budget (rolling hour): a short wait is pointless.
  4: { class: 'rate_limited', meaning: 'API too many calls (app rate limit)', defaultWaitMs: 60_000 },
  80007: { class: 'rate_limited', meaning: 'WABA rate limit', defaultWaitMs: 60_000 },
  // Throughput per business phone number (default 80 msg/s): the whole account waits a moment, and
  // the shared pace (dispatch_pace) holds every dispatcher of this adapter, not only this row.
  130429: {
    class: 'rate_limited',
    meaning: 'Cloud API throughput rate limit',
    defaultWaitMs: 2_000,
    scope: 'account',
  },
  // Pair rate limit: about one message per 6 s to the same recipient (docs/providers.md). That
  // recipient is held for every dispatcher (recipient_holds); other customers are not held back.
  131056: {
    class: 'rate_limited',
    meaning: '(business, consumer) pair rate limit',
    defaultWaitMs: 6_000,
    scope: 'recipient',
  },
  131047: { class: 'permanent', meaning: OUTSIDE_WINDOW_REASON },
  // Per-user marketing template limit: Meta asks to wait at least 24 h before resending
  // (docs/providers.md, "WhatsApp in 2026"); sooner only earns more refusals.
  131049: {
    class: 'rate_limited',
    meaning: 'per-user marketing template limit (Meta: resend no sooner than 24 h)',
    defaultWaitMs: 24 * 60 * 60_000,
  },
  // 2026: a business-scoped user id cannot receive this message (authentication templates, for
  // one, still need a phone number). Retrying the same recipient cannot help.
  131062: { class: 'permanent', meaning: BSUID_UNSUPPORTED_REASON },
  131026: {
    class: 'permanent',
    meaning: 'message undeliverable (not on WhatsApp, old app, terms not accepted)',
  },
  // Quality restriction: retrying messages flagged as spam makes the number's quality worse.
  131048: { class: 'permanent', meaning: 'spam rate limit hit (quality restriction)' },
  100: { class: 'permanent', meaning: 'invalid parameter' },
  368: { class: 'permanent', meaning: 'temporarily blocked for policy violations' },
  131051: { class: 'permanent', meaning: 'unsupported message type' },
  131009: { class: 'permanent', meaning: 'parameter value is not valid' },
  132000: { class: 'permanent', meaning: 'template parameter count mismatch' },
  132001: { class: 'permanent', meaning: 'template does not exist in this language' },
  1: { class: 'retryable', meaning: 'API unknown error' },
  2: { class: 'retryable', meaning: 'API service temporarily unavailable' },
  131000: { class: 'retryable', meaning: 'something went wrong' },
  131016: { class: 'retryable', meaning: 'service unavailable' },
  133004: { class: 'retryable', meaning: 'server temporarily unavailable' },
};

interface GraphError {
  message?: unknown;
  code?: unknown;
  is_transient?: unknown;
  error_data?: { details?: unknown };
  fbtrace_id?: unknown;
}

/** Classifies a non-2xx Graph API answer. */
export function classifyWhatsApp(
  status: number,
  body: unknown,
  retryAfter: string | null = null,
): Classified {
  const e = ((body as { error?: GraphError } | undefined)?.error ?? {}) as GraphError;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const details = clip(e.error_data?.details, 200);
  const text = [clip(e.message, 200), details].filter(Boolean).join(' — ') || `HTTP ${status}`;
  const detail = {
    message: `${text} (HTTP ${status}${code !== undefined ? `, code ${code}` : ''})`,
    httpStatus: status,
    retryAfterMs: retryAfterMs(retryAfter),
  };
  if (code === 131047) {
    return {
      ...fromRule('whatsapp', code, WHATSAPP_RULES[code]!, detail),
      message: `${OUTSIDE_WINDOW_REASON} (Meta code 131047)`,
    };
  }
  if (code === 131062) {
    return {
      ...fromRule('whatsapp', code, WHATSAPP_RULES[code]!, detail),
      message: `${BSUID_UNSUPPORTED_REASON} (Meta code 131062)`,
    };
  }
  if (code !== undefined) {
    const rule = WHATSAPP_RULES[code] ?? (code >= 200 && code <= 299 ? WHATSAPP_RULES[10] : undefined);
    if (rule) return fromRule('whatsapp', code, rule, detail);
    if (e.is_transient === true)
      return fromRule('whatsapp', code, { class: 'retryable', meaning: 'transient' }, detail);
  }
  const fallback: Rule =
    status === 429
      ? { class: 'rate_limited', meaning: 'rate limited', defaultWaitMs: 60_000 }
      : status >= 500
        ? { class: 'retryable', meaning: 'server error' }
        : { class: 'permanent', meaning: 'rejected' };
  return fromRule('whatsapp', code ?? status, fallback, detail);
}
