import type { Config } from '../config/config.ts';
import { adapterInfo } from '../core/channels.ts';
import type { Redactor } from '../core/redact.ts';
import type { OutboxRow } from '../store/rows.ts';
import { ProviderError, classifyTransport, failureResult, transportReachedProvider } from './classify.ts';
import { baseUrl, missingOf, valueOr, type AdapterDeps } from './common.ts';
import { TransportError, adapterDeadlineMs, httpCall, type HttpResponse } from './http.ts';
import { classifyTwilio, uncertainCreate, type TwilioOperation } from './twilio-errors.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = [
  'OTP_PROVIDER',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_VERIFY_SERVICE_SID',
] as const;

// Verify locales we can pass for our own locales. Azerbaijani is not a Verify locale (an unsupported
// override is an error), so for `az` Twilio resolves the language from the +994 country code.
const TWILIO_LOCALES: ReadonlyMap<string, string> = new Map([
  ['en', 'en'],
  ['ru', 'ru'],
]);

export function twilioLocale(locale: string | null | undefined): string | undefined {
  return locale ? TWILIO_LOCALES.get(locale) : undefined;
}

export interface TwilioVerifyOptions {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  serviceSid: string;
  /** Per-call deadline; the caller's AbortSignal can end a call sooner. */
  timeoutMs: number;
  redactor: Redactor;
}

/** A started verification (`status` is `pending` when Twilio accepted it). */
export interface VerificationStart {
  sid: string;
  status: string;
}

/** A check: a wrong code is not an error, it is `{status: 'pending', valid: false}`. */
export interface VerificationCheck {
  status: string;
  valid: boolean;
}

/**
 * Typed Twilio Verify v2 client. Every method throws a ProviderError (class permanent / retryable /
 * rate_limited, code `twilio_<code>` or `provider_uncertain`, retryAfterMs) on failure; messages are
 * scrubbed of secrets and carry no cause.
 */
export class TwilioVerifyClient {
  constructor(private readonly o: TwilioVerifyOptions) {}

  /** The client for the configured service, or null when Twilio env is incomplete. */
  static fromConfig(
    config: Config,
    redactor: Redactor,
    timeoutMs = config.env.OTP_TIMEOUT_MS,
  ): TwilioVerifyClient | null {
    const e = config.env;
    if (!e.TWILIO_ACCOUNT_SID || !e.TWILIO_AUTH_TOKEN || !e.TWILIO_VERIFY_SERVICE_SID) return null;
    return new TwilioVerifyClient({
      baseUrl: e.TWILIO_VERIFY_BASE_URL,
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      serviceSid: e.TWILIO_VERIFY_SERVICE_SID,
      timeoutMs,
      redactor,
    });
  }

  private get service(): string {
    return `${baseUrl(this.o.baseUrl)}/v2/Services/${encodeURIComponent(this.o.serviceSid)}`;
  }

  private get credentials(): string {
    return Buffer.from(`${this.o.accountSid}:${this.o.authToken}`).toString('base64');
  }

  private get authorization(): string {
    return `Basic ${this.credentials}`;
  }

  /** The redactor, plus the Basic credential as sent: its base64 does not contain the token's own base64. */
  private scrub(text: string): string {
    return this.o.redactor.scrub(text).split(this.credentials).join('[REDACTED]');
  }

  /** The create request, with the Basic header redacted whole (base64 hides the token from substring scrubbing). */
  createRequest(to: string, locale?: string | null): RenderedRequest {
    const form = new URLSearchParams({ To: to, Channel: 'sms' });
    const loc = twilioLocale(locale);
    if (loc) form.set('Locale', loc);
    return {
      kind: 'http',
      method: 'POST',
      url: `${this.service}/Verifications`,
      headers: { authorization: 'Basic [REDACTED]', 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  }

  private async call(op: TwilioOperation, req: RenderedRequest, signal?: AbortSignal): Promise<HttpResponse> {
    let res: HttpResponse;
    try {
      res = await httpCall(
        {
          method: req.method as 'GET' | 'POST',
          url: req.url!,
          headers: { ...req.headers, authorization: this.authorization, accept: 'application/json' },
          ...(typeof req.body === 'string' ? { body: req.body } : {}),
          timeoutMs: this.o.timeoutMs,
          ...(signal ? { signal } : {}),
        },
        this.o.redactor,
      );
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      if (op === 'create' && transportReachedProvider(err)) {
        throw new ProviderError(uncertainCreate(`the create ended without an answer (${err.message})`));
      }
      throw new ProviderError(classifyTransport('twilio', err));
    }
    if (res.status < 200 || res.status > 299) {
      const c = classifyTwilio(op, res.status, res.json, res.headers.get('retry-after'));
      throw new ProviderError({ ...c, message: this.scrub(c.message) });
    }
    return res;
  }

  /** POST /v2/Services/{sid}/Verifications (To, Channel=sms, Locale when Twilio has ours). */
  async start(
    to: string,
    locale: string | null | undefined,
    signal?: AbortSignal,
  ): Promise<VerificationStart> {
    const res = await this.call('create', this.createRequest(to, locale), signal);
    const j = res.json as { sid?: unknown; status?: unknown } | undefined;
    if (typeof j?.sid !== 'string' || typeof j.status !== 'string') {
      throw new ProviderError(uncertainCreate(`Twilio answered HTTP ${res.status} without a verification`));
    }
    return { sid: j.sid, status: j.status };
  }

  /** Alias of start. */
  createVerification(
    to: string,
    locale: string | null | undefined,
    signal?: AbortSignal,
  ): Promise<VerificationStart> {
    return this.start(to, locale, signal);
  }

  /** POST /v2/Services/{sid}/VerificationCheck with VerificationSid (or To) and Code. */
  async checkVerification(
    input: { code: string } & ({ verificationSid: string } | { to: string }),
    signal?: AbortSignal,
  ): Promise<VerificationCheck> {
    const form = new URLSearchParams({ Code: input.code });
    if ('verificationSid' in input) form.set('VerificationSid', input.verificationSid);
    else form.set('To', input.to);
    const res = await this.call(
      'check',
      {
        kind: 'http',
        method: 'POST',
        url: `${this.service}/VerificationCheck`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      },
      signal,
    );
    const j = res.json as { status?: unknown; valid?: unknown } | undefined;
    if (typeof j?.status !== 'string') {
      throw new ProviderError({
        class: 'retryable',
        code: 'twilio_malformed_response',
        message: `Twilio answered HTTP ${res.status} without a check status`,
      });
    }
    return { status: j.status, valid: j.valid === true && j.status === 'approved' };
  }

  check(verificationSid: string, code: string, signal?: AbortSignal): Promise<VerificationCheck> {
    return this.checkVerification({ verificationSid, code }, signal);
  }

  /** GET /v2/Services/{sid}: the credential check. */
  async fetchService(signal?: AbortSignal): Promise<{ sid: string; friendlyName: string }> {
    const res = await this.call(
      'fetch',
      { kind: 'http', method: 'GET', url: this.service, headers: {} },
      signal,
    );
    const j = res.json as { sid?: unknown; friendly_name?: unknown } | undefined;
    if (typeof j?.sid !== 'string') {
      throw new ProviderError({
        class: 'retryable',
        code: 'twilio_malformed_response',
        message: `Twilio answered HTTP ${res.status} without a service`,
      });
    }
    return { sid: j.sid, friendlyName: typeof j.friendly_name === 'string' ? j.friendly_name : '' };
  }
}

export function createTwilioVerifyAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  const build = (row: OutboxRow): RenderedRequest => {
    const form = new URLSearchParams({ To: row.target, Channel: 'sms' });
    const loc = twilioLocale(row.locale);
    if (loc) form.set('Locale', loc);
    return {
      kind: 'http',
      method: 'POST',
      url: `${baseUrl(config.env.TWILIO_VERIFY_BASE_URL)}/v2/Services/${valueOr(config, 'TWILIO_VERIFY_SERVICE_SID')}/Verifications`,
      // The Basic header hides the credentials in base64; it is shown redacted whole.
      headers: { authorization: 'Basic [REDACTED]', 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  };
  // The lane gives Twilio OTP_TIMEOUT_MS; the client stops a little earlier so a create timeout is
  // classified here (provider_uncertain) rather than as the lane's generic retryable timeout.
  const client = () =>
    TwilioVerifyClient.fromConfig(config, redactor, adapterDeadlineMs(config.env.OTP_TIMEOUT_MS));
  return {
    id: 'twilio_verify',
    info: adapterInfo('twilio_verify'),
    requiredEnv: REQUIRED,
    missingEnv: () => {
      const m = missingOf(config, REQUIRED);
      if (config.env.OTP_PROVIDER && config.env.OTP_PROVIDER !== 'twilio' && !m.includes('OTP_PROVIDER'))
        m.unshift('OTP_PROVIDER');
      return m;
    },
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, ctx: SendContext): Promise<SendResult> {
      const c = client();
      if (!c)
        return {
          outcome: 'permanent',
          errorCode: 'provider_not_configured',
          errorMessage: 'Twilio Verify env is incomplete',
          request: redactor.scrubValue(build(row)),
        };
      const request = redactor.scrubValue(c.createRequest(row.target, row.locale));
      try {
        const v = await c.start(row.target, row.locale, ctx.signal);
        return {
          outcome: 'sent',
          providerMessageId: v.sid,
          request,
          response: { sid: v.sid, status: v.status },
        };
      } catch (err) {
        if (err instanceof ProviderError) return failureResult(err.classified, request);
        throw err;
      }
    },
    async verify(signal) {
      const c = client();
      if (!c)
        return {
          ok: false,
          errorCode: 'provider_not_configured',
          message: 'Twilio Verify env is incomplete',
        };
      try {
        const s = await c.fetchService(signal);
        return {
          ok: true,
          detail: `Verify service ${s.sid}${s.friendlyName ? ` "${s.friendlyName}"` : ''} reachable with these credentials`,
        };
      } catch (err) {
        if (err instanceof ProviderError) return { ok: false, errorCode: err.code, message: err.message };
        throw err;
      }
    },
  };
}
