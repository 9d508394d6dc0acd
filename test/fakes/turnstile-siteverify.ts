import { randomBytes } from 'node:crypto';
import {
  FakeRefusal,
  HttpFake,
  isPlainObject,
  parseForm,
  parseJson,
  type FakeRequest,
  type FakeResponse,
} from './http-fake-base.ts';

/**
 * Fake Cloudflare Turnstile siteverify, following Cloudflare's "Validate the token" page
 * (developers.cloudflare.com/turnstile/get-started/server-side-validation/) and its testing page
 * (developers.cloudflare.com/turnstile/troubleshooting/testing/):
 * - POST /turnstile/v0/siteverify, body application/x-www-form-urlencoded or application/json with
 *   `secret` and `response` (required), `remoteip` and `idempotency_key` (optional);
 * - always a JSON answer {success, error-codes[], challenge_ts, hostname, action, cdata, metadata};
 * - tokens at most 2048 characters, valid 300 s from issue, single use (a second validation
 *   answers `timeout-or-duplicate`), except that a retry with the same idempotency_key gets the
 *   first answer again;
 * - the dummy secrets: 1x… always passes, 2x… always fails, 3x… answers "token already spent".
 */

export const SITEVERIFY_PATH = '/turnstile/v0/siteverify';
export const TOKEN_VALIDITY_MS = 300_000;
const DUMMY = {
  pass: '1x0000000000000000000000000000000AA',
  fail: '2x0000000000000000000000000000000AA',
  spent: '3x0000000000000000000000000000000AA',
};

export interface TurnstileFakeOptions {
  secret: string;
  now?: () => number;
}

export interface SiteverifyReceipt {
  response: string;
  remoteip: string | null;
  idempotencyKey: string | null;
  contentType: string;
  success: boolean;
  errorCodes: string[];
}

interface Issued {
  hostname: string;
  action: string;
  cdata: string;
  issuedAt: number;
  usedAt: number | null;
}

export class TurnstileFake extends HttpFake<SiteverifyReceipt, never> {
  private readonly tokens = new Map<string, Issued>();
  private readonly byIdempotencyKey = new Map<string, { token: string; answer: Record<string, unknown> }>();

  constructor(private readonly opts: TurnstileFakeOptions) {
    super(opts);
  }

  get verifyUrl(): string {
    return `${this.url}${SITEVERIFY_PATH}`;
  }

  /** What the browser widget would get after solving a challenge on `hostname` for `action`. */
  issueToken(o: { hostname: string; action: string; cdata?: string }): string {
    const token = `0.${randomBytes(96).toString('base64url')}`;
    this.tokens.set(token, {
      hostname: o.hostname,
      action: o.action,
      cdata: o.cdata ?? '',
      issuedAt: this.now(),
      usedAt: null,
    });
    return token;
  }

  protected serverErrorResponse(): FakeResponse {
    return { status: 500, json: { success: false, 'error-codes': ['internal-error'] } };
  }

  protected rateLimitResponse(): FakeResponse {
    return { status: 429, json: { success: false, 'error-codes': ['internal-error'] } };
  }

  protected handle(req: FakeRequest): FakeResponse {
    if (req.path !== SITEVERIFY_PATH || req.method !== 'POST') {
      throw new FakeRefusal(
        { status: 404, json: { success: false, 'error-codes': ['bad-request'] } },
        `no route ${req.method} ${req.path}`,
      );
    }
    let body: Record<string, unknown>;
    if (req.contentType === 'application/json') {
      const j = parseJson(req.rawBody);
      if (!isPlainObject(j)) return this.answer(req, '', null, null, fail(['bad-request']));
      body = j;
    } else if (req.contentType === 'application/x-www-form-urlencoded') {
      body = parseForm(req.rawBody);
    } else {
      return this.answer(req, '', null, null, fail(['bad-request']));
    }
    const one = (k: string) => (typeof body[k] === 'string' ? body[k] : null);
    const secret = one('secret');
    const response = one('response');
    const remoteip = one('remoteip');
    const key = one('idempotency_key');
    const codes: string[] = [];
    if (!secret) codes.push('missing-input-secret');
    else if (![this.opts.secret, DUMMY.pass, DUMMY.fail, DUMMY.spent].includes(secret))
      codes.push('invalid-input-secret');
    if (!response) codes.push('missing-input-response');
    if (codes.length) return this.answer(req, response ?? '', remoteip, key, fail(codes));
    const token = response!;
    if (secret === DUMMY.pass)
      return this.answer(
        req,
        token,
        remoteip,
        key,
        ok({ hostname: 'example.com', action: '', cdata: '' }, this.now()),
      );
    if (secret === DUMMY.fail)
      return this.answer(req, token, remoteip, key, fail(['invalid-input-response']));
    if (secret === DUMMY.spent) return this.answer(req, token, remoteip, key, fail(['timeout-or-duplicate']));
    if (key) {
      const prior = this.byIdempotencyKey.get(key);
      if (prior && prior.token === token) return this.answer(req, token, remoteip, key, prior.answer);
    }
    const issued = token.length <= 2048 ? this.tokens.get(token) : undefined;
    let answer: Record<string, unknown>;
    if (!issued) answer = fail(['invalid-input-response']);
    else if (issued.usedAt !== null || this.now() - issued.issuedAt > TOKEN_VALIDITY_MS)
      answer = fail(['timeout-or-duplicate']);
    else {
      issued.usedAt = this.now();
      answer = ok(issued, issued.issuedAt);
    }
    if (key) this.byIdempotencyKey.set(key, { token, answer });
    return this.answer(req, token, remoteip, key, answer);
  }

  private answer(
    req: FakeRequest,
    response: string,
    remoteip: string | null,
    key: string | null,
    json: Record<string, unknown>,
  ): FakeResponse {
    const codes = json['error-codes'] as string[];
    this.recordReceipt(req, {
      response,
      remoteip,
      idempotencyKey: key,
      contentType: req.contentType,
      success: json.success === true,
      errorCodes: codes,
    });
    return { status: 200, json };
  }
}

function ok(
  i: { hostname: string; action: string; cdata: string },
  issuedAt: number,
): Record<string, unknown> {
  return {
    success: true,
    challenge_ts: new Date(issuedAt).toISOString(),
    hostname: i.hostname,
    'error-codes': [],
    action: i.action,
    cdata: i.cdata,
    metadata: { interactive: false },
  };
}

function fail(codes: string[]): Record<string, unknown> {
  return { success: false, 'error-codes': codes };
}

export async function startTurnstileFake(o: TurnstileFakeOptions): Promise<TurnstileFake> {
  return new TurnstileFake(o).listen();
}
