import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { AppError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { TURNSTILE_DUMMY_SECRETS } from '../core/turnstile-keys.ts';
import { httpCall, TransportError, type HttpResponse } from '../providers/http.ts';

/**
 * Cloudflare Turnstile in front of OTP start, the one public route that spends money
 * (docs/otp.md, "Turnstile"). The browser solves the widget and sends its token as
 * `turnstileToken`; the server checks it with siteverify BEFORE any limit is counted or any
 * provider is called. It fails closed: no token, a spent or foreign token, a missing secret, a
 * timeout or a non-JSON answer all refuse the start.
 *
 * siteverify (developers.cloudflare.com/turnstile/get-started/server-side-validation/): POST
 * form or JSON {secret, response, remoteip?, idempotency_key?} → JSON {success, error-codes[],
 * challenge_ts, hostname, action, cdata}. Tokens are at most 2048 characters, valid 300 s, single use.
 */

/** The action the sign-in page gives the widget; the token must come back with it. */
export const TURNSTILE_ACTION = 'otp_start';
export const TURNSTILE_TOKEN_MAX = 2048;

export interface SiteverifyAnswer {
  success: boolean;
  errorCodes: string[];
  hostname: string | null;
  action: string | null;
}

/** Reads a siteverify JSON body; null when it is not the documented shape. */
export function readSiteverify(json: unknown): SiteverifyAnswer | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const j = json as Record<string, unknown>;
  if (typeof j.success !== 'boolean') return null;
  const codes = Array.isArray(j['error-codes'])
    ? j['error-codes'].filter((c): c is string => typeof c === 'string').map((c) => c.slice(0, 64))
    : [];
  const s = (v: unknown) => (typeof v === 'string' ? v.slice(0, 255) : null);
  return { success: j.success, errorCodes: codes.slice(0, 10), hostname: s(j.hostname), action: s(j.action) };
}

const refused = (reason: string, message: string, extra: Record<string, unknown> = {}) =>
  new AppError('turnstile_failed', message, { details: { reason, ...extra } });
const unavailable = (reason: string, message: string) =>
  new AppError('turnstile_unavailable', message, { details: { reason } });

export interface TurnstileCheck {
  token: string | undefined;
  /** The client address (after trusted proxies), sent as remoteip. */
  remoteIp: string;
  /** The hostname the sign-in page was served from (the request's Host), when no public URL is configured. */
  requestHost: string | null;
}

export class TurnstileVerifier {
  constructor(
    private readonly config: Config,
    private readonly redactor: Redactor,
  ) {}

  /** Turnstile is on when the public site key is set (the sign-in page then shows the widget). */
  get enabled(): boolean {
    return this.config.env.CLOUDFLARE_TURNSTILE_SITE_KEY !== undefined;
  }

  private expectedHostname(requestHost: string | null): string | null {
    const pub = this.config.env.BACKEND_PUBLIC_URL;
    if (pub) return new URL(pub).hostname;
    return requestHost;
  }

  /** Resolves when the start may go on; throws turnstile_failed (403) or turnstile_unavailable (503). */
  async verify(c: TurnstileCheck, timeoutMs: number): Promise<void> {
    if (!this.enabled) return;
    const env = this.config.env;
    const secret = env.CLOUDFLARE_TURNSTILE_SECRET_KEY;
    if (!secret) {
      throw unavailable(
        'turnstile_secret_missing',
        'Sign-in is protected by Turnstile but CLOUDFLARE_TURNSTILE_SECRET_KEY is not configured; no code was sent.',
      );
    }
    if (!c.token)
      throw refused(
        'turnstile_token_missing',
        'The human check (Turnstile) was not completed; no code was sent.',
      );
    if (c.token.length > TURNSTILE_TOKEN_MAX)
      throw refused('turnstile_token_invalid', 'The human check token is not valid; no code was sent.');
    let res: HttpResponse;
    try {
      res = await httpCall(
        {
          method: 'POST',
          url: env.CLOUDFLARE_TURNSTILE_VERIFY_URL,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          // A fresh idempotency key per start: siteverify may be retried safely, never replayed across starts.
          body: new URLSearchParams({
            secret,
            response: c.token,
            remoteip: c.remoteIp,
            idempotency_key: randomUUID(),
          }).toString(),
          timeoutMs,
        },
        this.redactor,
      );
    } catch (err) {
      const timedOut = err instanceof TransportError && err.kind === 'timeout';
      throw unavailable(
        timedOut ? 'turnstile_timeout' : 'turnstile_unreachable',
        timedOut
          ? `The human check service did not answer within ${timeoutMs} ms; no code was sent.`
          : 'The human check service could not be reached; no code was sent.',
      );
    }
    const answer = readSiteverify(res.json);
    if (!answer) {
      throw unavailable(
        'turnstile_bad_answer',
        `The human check service answered HTTP ${res.status} without its JSON; no code was sent.`,
      );
    }
    if (!answer.success) {
      const spent = answer.errorCodes.includes('timeout-or-duplicate');
      throw refused(
        spent ? 'turnstile_token_spent' : 'turnstile_rejected',
        spent
          ? 'The human check expired or was already used; solve it again.'
          : 'The human check did not pass; no code was sent.',
        { errorCodes: answer.errorCodes },
      );
    }
    // Cloudflare's dummy secrets answer without the real hostname and action: in QA those checks are skipped.
    const dummy = this.config.runtime === 'qa' && TURNSTILE_DUMMY_SECRETS.includes(secret);
    if (dummy) return;
    const host = this.expectedHostname(c.requestHost);
    if (!host || answer.hostname?.toLowerCase() !== host.toLowerCase()) {
      throw refused(
        'turnstile_wrong_hostname',
        'The human check was solved on another site; no code was sent.',
      );
    }
    if (answer.action !== TURNSTILE_ACTION)
      throw refused(
        'turnstile_wrong_action',
        'The human check was solved for another action; no code was sent.',
      );
  }
}
