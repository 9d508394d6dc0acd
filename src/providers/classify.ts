import type { ErrorClass, RateLimitScope, RenderedRequest, SendResult } from './types.ts';
import type { TransportError } from './http.ts';

/**
 * A provider failure, classified once at the adapter edge: what to do with the row (retry, give up,
 * wait) and the provider's own code so the row shows it. The message never carries a secret: it is
 * built from the provider's answer and scrubbed before it leaves the adapter.
 */
export interface Classified {
  class: ErrorClass;
  /** Stable code stored on the row: `<provider>_<provider code>` (twilio_60410, telegram_429, smtp_550) or a local one. */
  code: string;
  message: string;
  /** Provider-requested wait (Retry-After, retry_after) or the table's default for this code. */
  retryAfterMs?: number;
  /** For permanent failures: the row status other than `dead` (blocked = the recipient refuses). */
  finalStatus?: 'dead' | 'expired' | 'blocked';
  /** For rate limits the provider names the scope of: one recipient, or the whole sending account. */
  rateLimitScope?: RateLimitScope;
  httpStatus?: number;
  providerCode?: string | number;
}

/** One row of a provider's classification table. */
export interface Rule {
  class: ErrorClass;
  meaning: string;
  /** Wait used when the provider gives none (rate limits). */
  defaultWaitMs?: number;
  finalStatus?: 'dead' | 'expired' | 'blocked';
  /** Rate limits: what the limit is about, when the provider says so (else the lane infers it). */
  scope?: RateLimitScope;
}

/** Thrown by the typed clients (Twilio Verify for OTP, the Firebase key loader); adapters return SendResults instead. */
export class ProviderError extends Error {
  readonly class: ErrorClass;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly finalStatus: Classified['finalStatus'];
  readonly httpStatus: number | undefined;
  readonly providerCode: string | number | undefined;

  constructor(c: Classified) {
    // No `cause`: the underlying error can carry a URL or a header.
    super(c.message);
    this.name = 'ProviderError';
    this.class = c.class;
    this.code = c.code;
    this.retryAfterMs = c.retryAfterMs;
    this.finalStatus = c.finalStatus;
    this.httpStatus = c.httpStatus;
    this.providerCode = c.providerCode;
  }

  get classified(): Classified {
    return {
      class: this.class,
      code: this.code,
      message: this.message,
      retryAfterMs: this.retryAfterMs,
      finalStatus: this.finalStatus,
      httpStatus: this.httpStatus,
      providerCode: this.providerCode,
    };
  }
}

export function failureResult(c: Classified, request: RenderedRequest, response?: unknown): SendResult {
  return {
    outcome: c.class,
    errorCode: c.code,
    errorMessage: c.message,
    ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
    ...(c.finalStatus ? { finalStatus: c.finalStatus } : {}),
    ...(c.rateLimitScope ? { rateLimitScope: c.rateLimitScope } : {}),
    request,
    ...(response !== undefined ? { response } : {}),
  };
}

/** Applies a table row to a provider answer. */
export function fromRule(
  provider: string,
  providerCode: string | number,
  rule: Rule,
  detail: { message: string; httpStatus?: number; retryAfterMs?: number },
): Classified {
  const wait =
    rule.class === 'rate_limited' ? (detail.retryAfterMs ?? rule.defaultWaitMs) : detail.retryAfterMs;
  return {
    class: rule.class,
    code: `${provider}_${providerCode}`,
    message: detail.message,
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    ...(rule.finalStatus ? { finalStatus: rule.finalStatus } : {}),
    ...(rule.class === 'rate_limited' && rule.scope ? { rateLimitScope: rule.scope } : {}),
    ...(detail.httpStatus !== undefined ? { httpStatus: detail.httpStatus } : {}),
    providerCode,
  };
}

/**
 * Transport failures. `connection` and `dns` mean the request never reached the provider, so a
 * retry cannot duplicate anything; a timeout or reset may have been processed.
 */
export function transportReachedProvider(err: TransportError): boolean {
  return !(err.kind === 'connection' || err.kind === 'dns');
}

export function classifyTransport(provider: string, err: TransportError): Classified {
  return { class: 'retryable', code: `${provider}_${err.kind}`, message: `transport ${err.message}` };
}

/** Short, single-line text from a provider answer (descriptions can be long or multi-line). */
export function clip(text: unknown, max = 300): string {
  const s = typeof text === 'string' ? text : text === undefined || text === null ? '' : JSON.stringify(text);
  return s.replace(/\s+/g, ' ').trim().slice(0, max);
}
