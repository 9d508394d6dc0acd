import { clip, fromRule, type Classified, type Rule } from './classify.ts';
import { retryAfterMs } from './http.ts';

/**
 * Twilio Verify error codes (docs/providers.md, "Twilio Verify"). Branch on the JSON `code`, not the HTTP
 * status: 60410 has no documented status, and 429 carries four different meanings.
 */
export const TWILIO_RULES: Readonly<Record<number, Rule>> = {
  60200: { class: 'permanent', meaning: 'invalid parameter (To not E.164, bad Channel, Code length)' },
  60202: { class: 'permanent', meaning: 'max check attempts (5) reached; the verification is spent' },
  // Waiting would only help after the 10-minute verification expires: for an OTP that is a give-up.
  60203: { class: 'permanent', meaning: 'max send attempts (5) reached for this verification' },
  // The number has a request in flight; it was not processed, so a short wait and retry is safe.
  60212: {
    class: 'rate_limited',
    meaning: 'too many concurrent requests for this phone number',
    defaultWaitMs: 2_000,
  },
  60410: { class: 'permanent', meaning: 'Fraud Guard blocked the destination prefix (12 h)' },
  60605: {
    class: 'permanent',
    meaning: 'destination blocked by Verify Geo-Permissions',
    finalStatus: 'blocked',
  },
  20404: {
    class: 'permanent',
    meaning: 'not found: unknown service, or the verification is approved, expired or deleted',
  },
  // "Never processed, always safe to retry" (Twilio 20429 page).
  20429: { class: 'rate_limited', meaning: 'too many requests (account concurrency)', defaultWaitMs: 1_000 },
  // A create answered with 500 may have sent an SMS: handled as provider_uncertain for creates.
  20500: { class: 'retryable', meaning: 'Twilio internal error' },
  20003: { class: 'permanent', meaning: 'authentication failed (Account SID / Auth Token)' },
  20008: { class: 'permanent', meaning: 'test credentials cannot use this resource' },
};

export type TwilioOperation = 'create' | 'check' | 'fetch';

export const UNCERTAIN_CODE = 'provider_uncertain';

/** The create POST is not idempotent: anything after the request may have reached Twilio ends the row. */
export function uncertainCreate(what: string): Classified {
  return {
    class: 'permanent',
    code: UNCERTAIN_CODE,
    message: `${what}; Twilio may have sent the SMS, so the create is not retried automatically (it is not idempotent)`,
  };
}

/** Classifies a non-2xx Twilio answer for one operation. */
export function classifyTwilio(
  op: TwilioOperation,
  status: number,
  body: unknown,
  retryAfter: string | null,
): Classified {
  const b = (body && typeof body === 'object' ? body : {}) as { code?: unknown; message?: unknown };
  const code = typeof b.code === 'number' ? b.code : undefined;
  const text = clip(b.message) || `HTTP ${status}`;
  const wait = retryAfterMs(retryAfter);
  const detail = {
    message: `${text} (HTTP ${status}${code !== undefined ? `, code ${code}` : ''})`,
    httpStatus: status,
    retryAfterMs: wait,
  };

  if (op === 'create' && status >= 500) {
    return {
      ...uncertainCreate(`Twilio answered HTTP ${status}${code !== undefined ? ` (code ${code})` : ''}`),
      httpStatus: status,
      ...(code !== undefined ? { providerCode: code } : {}),
    };
  }
  if (code !== undefined) {
    const rule = TWILIO_RULES[code];
    if (rule) return fromRule('twilio', code, rule, detail);
  }
  // Unknown code: fall back on the HTTP status.
  const fallback: Rule =
    status === 429
      ? { class: 'rate_limited', meaning: 'rate limited', defaultWaitMs: 1_000 }
      : status >= 500
        ? { class: 'retryable', meaning: 'server error' }
        : { class: 'permanent', meaning: 'rejected' };
  return fromRule('twilio', code ?? status, fallback, detail);
}
