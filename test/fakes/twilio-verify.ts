import { randomBytes, randomInt } from 'node:crypto';
import { FakeRefusal, HttpFake, parseForm, type FakeRequest, type FakeResponse } from './http-fake-base.ts';
import { validateTwilioForm, type TwilioOperation } from './twilio-verify-spec.ts';

/**
 * Fake Twilio Verify v2 (PROVIDERS.md section 1): Basic auth, form bodies validated against the
 * official spec, per-`To` verification state on an injectable clock, and Twilio's error shape
 * {code, message, more_info, status}. Also GET /v2/Services/{Sid} (the spec's service fetch, our
 * credential check), behind the same Basic check.
 */

export interface TwilioVerifyFakeOptions {
  accountSid: string;
  authToken: string;
  serviceSid: string;
  now?: () => number;
  /** Code lifetime; Twilio's default is 10 minutes. */
  ttlMs?: number;
  /** Checks allowed per verification; the next one answers 60202. Twilio: 5. */
  maxCheckAttempts?: number;
  /** Sends allowed per verification lifecycle; the next one answers 60203. Twilio: 5. */
  maxSendAttempts?: number;
  /** Length of generated codes (Twilio service CodeLength, default 6). */
  codeLength?: number;
  /** The service's FriendlyName, answered by GET /v2/Services/{Sid}; default 'MUPZAOS'. */
  friendlyName?: string;
}

export type TwilioErrorCode =
  20003 | 20004 | 20404 | 20429 | 20500 | 60200 | 60202 | 60203 | 60212 | 60410 | 60605;

export interface TwilioForcedError {
  code: TwilioErrorCode;
  /** Overrides the HTTP status (60410's status is UNVERIFIED; default 403 here). */
  status?: number;
  message?: string;
  /** Adds a Retry-After header (20429 always carries one; default 1). */
  retryAfterSeconds?: number;
}

const ERRORS: Record<TwilioErrorCode, { status: number; message: string }> = {
  20003: { status: 401, message: 'Authenticate' },
  20004: { status: 405, message: 'Method not allowed' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too many requests' },
  20500: { status: 500, message: 'An internal server error has occurred' },
  60200: { status: 400, message: 'Invalid parameter' },
  60202: { status: 429, message: 'Max check attempts reached' },
  60203: { status: 429, message: 'Max send attempts reached' },
  60212: { status: 429, message: 'Too many concurrent requests for phone number' },
  60410: { status: 403, message: 'Verification delivery attempt blocked' },
  60605: { status: 403, message: 'Verification delivery attempt blocked by Verify Geo-Permissions' },
};

export type TwilioVerificationStatus =
  'pending' | 'approved' | 'canceled' | 'max_attempts_reached' | 'expired';

export interface TwilioVerificationState {
  sid: string;
  to: string;
  channel: string;
  code: string;
  status: TwilioVerificationStatus;
  createdAt: number;
  updatedAt: number;
  sendAttempts: { time: string; channel: string; attempt_sid: string }[];
  checkAttempts: number;
}

export interface TwilioReceiptBody {
  /** 'service' is GET /v2/Services/{Sid}; the others act on a verification. */
  operation: 'create' | 'check' | 'fetch' | 'update' | 'service';
  form: Record<string, string | string[]>;
  /** '' for a service fetch. */
  verificationSid: string;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CREATE_CHANNELS = ['sms', 'call', 'email', 'whatsapp', 'sna', 'auto'];

export class TwilioVerifyFake extends HttpFake<TwilioReceiptBody, TwilioForcedError> {
  /** Number of create calls that sent a code (first send and resends). */
  sends = 0;
  private readonly byTo = new Map<string, TwilioVerificationState>();
  private readonly bySid = new Map<string, TwilioVerificationState>();
  private readonly ttlMs: number;
  private readonly maxChecks: number;
  private readonly maxSends: number;
  private readonly codeLength: number;

  constructor(private readonly opts: TwilioVerifyFakeOptions) {
    super(opts);
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxChecks = opts.maxCheckAttempts ?? 5;
    this.maxSends = opts.maxSendAttempts ?? 5;
    this.codeLength = opts.codeLength ?? 6;
  }

  /** The code the fake "sent" by SMS to `to`, while its verification is pending; else undefined. */
  currentCode(to: string): string | undefined {
    const v = this.latest(to);
    return v?.status === 'pending' ? v.code : undefined;
  }

  /** Snapshot of the latest verification for `to` (any status, expiry applied), for assertions. */
  verification(to: string): TwilioVerificationState | undefined {
    const v = this.latest(to);
    return v ? structuredClone(v) : undefined;
  }

  /** The next `times` authenticated requests answer this Twilio error in Twilio's shape. */
  forceError(code: TwilioErrorCode, times = 1, options: Omit<TwilioForcedError, 'code'> = {}): void {
    if (!(code in ERRORS)) throw new Error(`twilio fake: unsupported forced error ${String(code)}`);
    this.queueForcedError({ code, ...options }, times);
  }

  protected serverErrorResponse(): FakeResponse {
    return this.errorResponse(20500);
  }

  protected rateLimitResponse(retryAfterSeconds: number): FakeResponse {
    return this.errorResponse(20429, { retryAfterSeconds });
  }

  protected handle(req: FakeRequest): FakeResponse {
    this.authenticate(req);
    const service = /^\/v2\/Services\/([^/]+)$/.exec(req.path);
    if (service?.[1] === this.opts.serviceSid) return this.service(req);
    const m = /^\/v2\/Services\/([^/]+)\/(Verifications|VerificationCheck)(?:\/([^/]+))?$/.exec(req.path);
    if (!m || m[1] !== this.opts.serviceSid || (m[2] === 'VerificationCheck' && m[3] !== undefined)) {
      throw this.refuse(
        20404,
        `no route ${req.method} ${req.path}`,
        `The requested resource ${req.path} was not found`,
      );
    }
    const [, , resource, sid] = m;
    const forced = this.takeForcedError();
    if (forced) {
      const { code, ...rest } = forced;
      throw this.refuse(code, 'forced error', rest.message, rest);
    }
    if (req.method === 'GET' && sid !== undefined) return this.fetch(req, sid);
    if (req.method !== 'POST') throw this.refuse(20004, `method ${req.method}`);
    if (req.contentType !== 'application/x-www-form-urlencoded') {
      throw this.refuse(
        60200,
        `content-type ${req.contentType || '(none)'}`,
        'Invalid parameter: Content-Type',
      );
    }
    const form = parseForm(req.rawBody);
    if (resource === 'VerificationCheck') return this.check(req, form);
    return sid === undefined ? this.create(req, form) : this.update(req, form, sid);
  }

  /** GET /v2/Services/{Sid}: the service resource in the spec's verify.v2.service shape. */
  private service(req: FakeRequest): FakeResponse {
    const forced = this.takeForcedError();
    if (forced) {
      const { code, ...rest } = forced;
      throw this.refuse(code, 'forced error', rest.message, rest);
    }
    // Updating a service (POST) is not something our adapter does; DELETE neither.
    if (req.method !== 'GET') throw this.refuse(20004, `method ${req.method}`);
    this.recordReceipt(req, { operation: 'service', form: {}, verificationSid: '' });
    return { status: 200, json: this.serviceJson() };
  }

  private authenticate(req: FakeRequest): void {
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const expected = `${this.opts.accountSid}:${this.opts.authToken}`;
    if (decoded !== expected) {
      const res = this.errorResponse(20003);
      res.headers = { ...res.headers, 'www-authenticate': 'Basic realm="Twilio API"' };
      throw new FakeRefusal(res, header ? 'bad credentials' : 'missing credentials', 20003);
    }
  }

  private validate(op: TwilioOperation, form: Record<string, string | string[]>): void {
    const problem = validateTwilioForm(op, form);
    if (problem)
      throw this.refuse(
        60200,
        `spec: ${problem.field} ${problem.detail}`,
        `Invalid parameter: ${problem.field}`,
      );
  }

  private create(req: FakeRequest, form: Record<string, string | string[]>): FakeResponse {
    this.validate('create', form);
    const to = String(form.To);
    const channel = String(form.Channel);
    if (!CREATE_CHANNELS.includes(channel))
      throw this.refuse(60200, `bad Channel ${channel}`, 'Invalid parameter: Channel');
    if (!(channel === 'email' ? EMAIL : E164).test(to))
      throw this.refuse(60200, `bad To ${to}`, 'Invalid parameter: To');
    const custom = typeof form.CustomCode === 'string' ? form.CustomCode : undefined;
    if (custom !== undefined && (custom.length < 4 || custom.length > 10)) {
      throw this.refuse(60200, 'CustomCode length', 'Invalid parameter: CustomCode');
    }

    const now = this.now();
    let v = this.latest(to);
    if (v?.status === 'max_attempts_reached') {
      // Twilio's 60202 page: wait until the verification expires before starting a new one.
      throw this.refuse(60202, 'create while max check attempts reached');
    }
    if (v?.status === 'pending') {
      if (v.sendAttempts.length >= this.maxSends)
        throw this.refuse(60203, `send ${v.sendAttempts.length + 1} in lifecycle`);
    } else {
      const code = custom ?? String(randomInt(0, 10 ** this.codeLength)).padStart(this.codeLength, '0');
      v = {
        sid: `VE${randomBytes(16).toString('hex')}`,
        to,
        channel,
        code,
        status: 'pending',
        createdAt: now,
        updatedAt: now,
        sendAttempts: [],
        checkAttempts: 0,
      };
      this.byTo.set(to, v);
      this.bySid.set(v.sid, v);
    }
    // Same code while pending (Twilio rate-limits-and-timeouts page); a resend only logs an attempt.
    v.channel = channel === 'auto' ? 'sms' : channel;
    v.updatedAt = now;
    v.sendAttempts.push({
      time: isoSeconds(now),
      channel: attemptChannel(v.channel),
      attempt_sid: `VL${randomBytes(16).toString('hex')}`,
    });
    this.sends += 1;
    this.recordReceipt(req, { operation: 'create', form, verificationSid: v.sid });
    return { status: 201, json: this.verificationJson(v) };
  }

  private check(req: FakeRequest, form: Record<string, string | string[]>): FakeResponse {
    this.validate('check', form);
    const code = typeof form.Code === 'string' ? form.Code : '';
    if (code.length < 4 || code.length > 10)
      throw this.refuse(60200, 'Code length', 'Invalid parameter: Code');
    const to = typeof form.To === 'string' ? form.To : undefined;
    const vsid = typeof form.VerificationSid === 'string' ? form.VerificationSid : undefined;
    if (to === undefined && vsid === undefined)
      throw this.refuse(60200, 'neither To nor VerificationSid', 'Invalid parameter: To');

    let v = vsid !== undefined ? this.bySid.get(vsid) : this.latest(to ?? '');
    if (v && vsid !== undefined) v = this.latest(v.to) === v ? v : undefined;
    if (v && to !== undefined && v.to !== to) v = undefined;
    if (!v || (v.status !== 'pending' && v.status !== 'max_attempts_reached')) {
      // Approved, canceled and expired verifications are soft-deleted (Twilio 20404 page).
      throw this.refuse(
        20404,
        `no live verification (${v?.status ?? 'none'})`,
        `The requested resource ${req.path} was not found`,
      );
    }
    if (v.status === 'max_attempts_reached' || v.checkAttempts >= this.maxChecks) {
      v.status = 'max_attempts_reached';
      v.updatedAt = this.now();
      throw this.refuse(60202, `check ${v.checkAttempts + 1} over limit`);
    }
    v.checkAttempts += 1;
    v.updatedAt = this.now();
    // A wrong code is not an HTTP error: 200, still pending, valid false.
    if (code === v.code) v.status = 'approved';
    this.recordReceipt(req, { operation: 'check', form, verificationSid: v.sid });
    return { status: 200, json: this.checkJson(v) };
  }

  private fetch(req: FakeRequest, sid: string): FakeResponse {
    const v = this.liveBySid(sid, req);
    this.recordReceipt(req, { operation: 'fetch', form: {}, verificationSid: v.sid });
    return { status: 200, json: this.verificationJson(v) };
  }

  private update(req: FakeRequest, form: Record<string, string | string[]>, sid: string): FakeResponse {
    this.validate('update', form);
    const v = this.liveBySid(sid, req);
    v.status = form.Status === 'approved' ? 'approved' : 'canceled';
    v.updatedAt = this.now();
    this.recordReceipt(req, { operation: 'update', form, verificationSid: v.sid });
    return { status: 200, json: this.verificationJson(v) };
  }

  private liveBySid(sid: string, req: FakeRequest): TwilioVerificationState {
    const found = this.bySid.get(sid);
    const v = found && this.latest(found.to) === found ? found : undefined;
    if (!v || (v.status !== 'pending' && v.status !== 'max_attempts_reached')) {
      throw this.refuse(
        20404,
        `no live verification ${sid}`,
        `The requested resource ${req.path} was not found`,
      );
    }
    return v;
  }

  /** Latest verification for `to`, with the TTL applied on the injected clock. */
  private latest(to: string): TwilioVerificationState | undefined {
    const v = this.byTo.get(to);
    if (
      v &&
      (v.status === 'pending' || v.status === 'max_attempts_reached') &&
      this.now() - v.createdAt >= this.ttlMs
    ) {
      v.status = 'expired';
      v.updatedAt = v.createdAt + this.ttlMs;
    }
    return v;
  }

  private verificationJson(v: TwilioVerificationState): Record<string, unknown> {
    return {
      sid: v.sid,
      service_sid: this.opts.serviceSid,
      account_sid: this.opts.accountSid,
      to: v.to,
      channel: v.channel,
      status: v.status,
      valid: v.status === 'approved',
      lookup: {},
      amount: null,
      payee: null,
      send_code_attempts: v.sendAttempts.map((a) => ({ ...a })),
      date_created: isoSeconds(v.createdAt),
      date_updated: isoSeconds(v.updatedAt),
      sna: null,
      url: `${this.url}/v2/Services/${this.opts.serviceSid}/Verifications/${v.sid}`,
    };
  }

  private serviceJson(): Record<string, unknown> {
    const sid = this.opts.serviceSid;
    const url = `${this.url}/v2/Services/${sid}`;
    // A fixed creation time: the service outlives any verification the tests make.
    const created = '2026-01-01T00:00:00Z';
    return {
      sid,
      account_sid: this.opts.accountSid,
      friendly_name: this.opts.friendlyName ?? 'MUPZAOS',
      code_length: this.codeLength,
      lookup_enabled: false,
      psd2_enabled: false,
      skip_sms_to_landlines: false,
      dtmf_input_required: false,
      tts_name: null,
      do_not_share_warning_enabled: false,
      custom_code_enabled: true,
      push: { include_date: false, apn_credential_sid: null, fcm_credential_sid: null },
      totp: { issuer: null, time_step: null, code_length: null, skew: null },
      whatsapp: { msg_service_sid: null, from: null },
      passkeys: {
        relying_party: { id: null, name: null, origins: null },
        authenticator_attachment: null,
        discoverable_credentials: null,
        user_verification: null,
      },
      default_template_sid: null,
      verify_event_subscription_enabled: false,
      date_created: created,
      date_updated: created,
      url,
      links: {
        verification_checks: `${url}/VerificationCheck`,
        verifications: `${url}/Verifications`,
        rate_limits: `${url}/RateLimits`,
        messaging_configurations: `${url}/MessagingConfigurations`,
        entities: `${url}/Entities`,
        webhooks: `${url}/Webhooks`,
        access_tokens: `${url}/AccessTokens`,
      },
    };
  }

  private checkJson(v: TwilioVerificationState): Record<string, unknown> {
    return {
      sid: v.sid,
      service_sid: this.opts.serviceSid,
      account_sid: this.opts.accountSid,
      to: v.to,
      channel: v.channel,
      status: v.status,
      valid: v.status === 'approved',
      amount: null,
      payee: null,
      sna_attempts_error_codes: [],
      date_created: isoSeconds(v.createdAt),
      date_updated: isoSeconds(v.updatedAt),
    };
  }

  private errorResponse(code: TwilioErrorCode, o: Omit<TwilioForcedError, 'code'> = {}): FakeResponse {
    const base = ERRORS[code];
    const status = o.status ?? base.status;
    const headers: Record<string, string> = {};
    const retryAfter = o.retryAfterSeconds ?? (code === 20429 ? 1 : undefined);
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    // The spec names the header on 429 but gives no value format; the value here is illustrative.
    if (code === 20429) headers['twilio-reached-rate-limit'] = 'concurrency';
    return { status, headers, json: twilioError(code, o.message ?? base.message, status) };
  }

  private refuse(
    code: TwilioErrorCode,
    reason: string,
    message?: string,
    o: Omit<TwilioForcedError, 'code'> = {},
  ): FakeRefusal {
    return new FakeRefusal(this.errorResponse(code, { ...o, ...(message ? { message } : {}) }), reason, code);
  }
}

export async function startTwilioVerifyFake(options: TwilioVerifyFakeOptions): Promise<TwilioVerifyFake> {
  return new TwilioVerifyFake(options).listen();
}

function twilioError(code: number, message: string, status: number): Record<string, unknown> {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** ISO-8601 without milliseconds, as in the spec's examples ("2015-07-30T20:00:00Z"). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The spec's examples spell the attempt channel "SMS"/"EMAIL" but "whatsapp".
function attemptChannel(channel: string): string {
  return channel === 'sms' || channel === 'email' || channel === 'call' ? channel.toUpperCase() : channel;
}
