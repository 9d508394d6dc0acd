import { errors, decodeProtectedHeader, importX509, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { Config } from '../config/config.ts';
import { AppError, type ErrorCode } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { TransportError, httpCall } from './http.ts';

/** Firebase ID tokens are issued by securetoken.google.com/<project> (firebase-admin token-verifier). */
export const FIREBASE_ISSUER_PREFIX = 'https://securetoken.google.com/';

// When the certificate answer has no max-age, keep keys this long rather than fetching per token.
const DEFAULT_KEY_TTL_MS = 60_000;
// An unknown kid refetches the keys (they rotate), but not more often than this.
const MIN_REFRESH_INTERVAL_MS = 30_000;
// Longest token accepted for parsing; real ID tokens are ~1 KB.
const MAX_TOKEN_LENGTH = 8_192;

export interface FirebaseVerifierOptions {
  projectId: string;
  /** x509 PEM map {kid: "-----BEGIN CERTIFICATE-----…"} (Google's securetoken URL by default). */
  certsUrl: string;
  redactor: Redactor;
  timeoutMs: number;
  now?: () => number;
  /** Allowed clock skew for iat/auth_time in the future; exp gets none, as in firebase-admin. */
  clockToleranceS?: number;
}

export interface FirebaseIdentity {
  uid: string;
  phoneNumber: string;
  authTime: Date;
  signInProvider: string | null;
}

interface KeySet {
  keys: Map<string, CryptoKey>;
  fetchedAt: number;
  expiresAt: number;
}

function fail(code: ErrorCode, message: string): AppError {
  return new AppError(code, message);
}

/** max-age from Cache-Control in ms, or undefined. */
export function maxAgeMs(cacheControl: string | null): number | undefined {
  const m = cacheControl ? /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(cacheControl) : null;
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * Verifies Firebase ID tokens the way firebase-admin does, with jose and a configurable key URL so
 * production and tests run the same code: RS256 only, known `kid`, `aud` = project id, `iss` =
 * securetoken URL of the project, `sub` 1–128 chars, `exp` in the future, `iat`/`auth_time` in the
 * past, and (for phone sign-in) `phone_number`. Each failure is its own AppError code (firebase_*).
 */
export class FirebaseTokenVerifier {
  private cache: KeySet | null = null;
  private inflight: Promise<KeySet> | null = null;
  private readonly now: () => number;

  constructor(private readonly o: FirebaseVerifierOptions) {
    this.now = o.now ?? Date.now;
  }

  static fromConfig(config: Config, redactor: Redactor): FirebaseTokenVerifier | null {
    const projectId = config.env.NEXT_PUBLIC_FIREBASE_PROJECT_ID;
    if (!projectId) return null;
    return new FirebaseTokenVerifier({
      projectId,
      certsUrl: config.env.FIREBASE_CERTS_URL,
      redactor,
      timeoutMs: config.env.OTP_TIMEOUT_MS,
    });
  }

  private async fetchKeys(): Promise<KeySet> {
    let res;
    try {
      res = await httpCall(
        {
          method: 'GET',
          url: this.o.certsUrl,
          headers: { accept: 'application/json' },
          timeoutMs: this.o.timeoutMs,
        },
        this.o.redactor,
      );
    } catch (err) {
      const why = err instanceof TransportError ? err.message : 'request failed';
      throw fail('firebase_keys_unavailable', `The Firebase signing keys could not be fetched (${why}).`);
    }
    if (res.status !== 200 || !res.json || typeof res.json !== 'object' || Array.isArray(res.json)) {
      throw fail(
        'firebase_keys_unavailable',
        `The Firebase key server answered HTTP ${res.status} without a certificate map.`,
      );
    }
    const keys = new Map<string, CryptoKey>();
    for (const [kid, pem] of Object.entries(res.json as Record<string, unknown>)) {
      if (typeof pem !== 'string') continue;
      try {
        keys.set(kid, await importX509(pem, 'RS256'));
      } catch {
        // One unreadable certificate does not void the others.
      }
    }
    if (keys.size === 0)
      throw fail(
        'firebase_keys_unavailable',
        'The Firebase key server answered without a usable certificate.',
      );
    const fetchedAt = this.now();
    return {
      keys,
      fetchedAt,
      expiresAt: fetchedAt + (maxAgeMs(res.headers.get('cache-control')) ?? DEFAULT_KEY_TTL_MS),
    };
  }

  /**
   * The current keys, cached until the certificate answer's max-age; one fetch at a time, shared by
   * every waiting caller (so it is bounded by the timeout, not by one caller's signal).
   */
  async keys(opts: { force?: boolean } = {}): Promise<KeySet> {
    if (!opts.force && this.cache && this.now() < this.cache.expiresAt) return this.cache;
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    this.cache = await this.inflight;
    return this.cache;
  }

  async verify(idToken: string): Promise<FirebaseIdentity> {
    if (typeof idToken !== 'string' || idToken.length > MAX_TOKEN_LENGTH || idToken.split('.').length !== 3) {
      throw fail('firebase_token_invalid', 'The Firebase ID token is not a JWT.');
    }
    let header;
    try {
      header = decodeProtectedHeader(idToken);
    } catch {
      throw fail('firebase_token_invalid', 'The Firebase ID token header cannot be read.');
    }
    if (header.alg !== 'RS256') {
      throw fail(
        'firebase_wrong_algorithm',
        `The Firebase ID token must be signed with RS256, not ${String(header.alg).slice(0, 10)}.`,
      );
    }
    if (typeof header.kid !== 'string' || header.kid === '') {
      throw fail('firebase_token_invalid', 'The Firebase ID token has no "kid" header.');
    }
    let set = await this.keys();
    let key = set.keys.get(header.kid);
    if (!key && this.now() - set.fetchedAt >= MIN_REFRESH_INTERVAL_MS) {
      set = await this.keys({ force: true });
      key = set.keys.get(header.kid);
    }
    if (!key)
      throw fail(
        'firebase_unknown_kid',
        'The Firebase ID token was signed with a key that is not current (it is most likely expired).',
      );

    const issuer = `${FIREBASE_ISSUER_PREFIX}${this.o.projectId}`;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, key, {
        algorithms: ['RS256'],
        issuer,
        audience: this.o.projectId,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'iat', 'sub', 'auth_time'],
      }));
    } catch (err) {
      throw this.mapJoseError(err);
    }

    const tolerance = (this.o.clockToleranceS ?? 5) * 1000;
    const nowMs = this.now();
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
      throw fail(
        'firebase_token_invalid',
        'The Firebase ID token "sub" must be a string of 1 to 128 characters.',
      );
    }
    if (typeof payload.iat !== 'number' || payload.iat * 1000 > nowMs + tolerance) {
      throw fail('firebase_token_invalid', 'The Firebase ID token was issued in the future ("iat").');
    }
    const authTime = payload.auth_time;
    if (typeof authTime !== 'number' || authTime * 1000 > nowMs + tolerance) {
      throw fail('firebase_token_invalid', 'The Firebase ID token "auth_time" must be a time in the past.');
    }
    const phone = payload.phone_number;
    if (typeof phone !== 'string' || !/^\+[1-9]\d{6,14}$/.test(phone)) {
      throw fail(
        'firebase_missing_phone',
        'The Firebase ID token carries no E.164 phone_number (phone sign-in is required).',
      );
    }
    const fb = payload.firebase as { sign_in_provider?: unknown } | undefined;
    return {
      uid: payload.sub,
      phoneNumber: phone,
      authTime: new Date(authTime * 1000),
      signInProvider: typeof fb?.sign_in_provider === 'string' ? fb.sign_in_provider : null,
    };
  }

  private mapJoseError(err: unknown): AppError {
    if (err instanceof errors.JWTExpired)
      return fail('firebase_token_expired', 'The Firebase ID token has expired.');
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'aud')
        return fail('firebase_wrong_audience', 'The Firebase ID token is for another project ("aud").');
      if (err.claim === 'iss')
        return fail(
          'firebase_wrong_issuer',
          'The Firebase ID token was not issued by Firebase for this project ("iss").',
        );
      return fail(
        'firebase_token_invalid',
        `The Firebase ID token claim "${err.claim.slice(0, 20)}" is ${err.reason === 'missing' ? 'missing' : 'invalid'}.`,
      );
    }
    if (err instanceof errors.JOSEAlgNotAllowed)
      return fail('firebase_wrong_algorithm', 'The Firebase ID token must be signed with RS256.');
    if (err instanceof errors.JWSSignatureVerificationFailed)
      return fail('firebase_token_invalid', 'The Firebase ID token signature does not verify.');
    return fail('firebase_token_invalid', 'The Firebase ID token is malformed.');
  }

  /** The credential check for the Firebase adapter: can the keys be fetched and read? */
  async checkKeys(): Promise<{ count: number; cachedForS: number }> {
    const set = await this.keys({ force: true });
    return { count: set.keys.size, cachedForS: Math.round((set.expiresAt - set.fetchedAt) / 1000) };
  }
}
