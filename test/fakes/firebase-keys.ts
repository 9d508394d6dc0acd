import { createPublicKey, randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, importPKCS8 } from 'jose';
import { FakeRefusal, HttpFake, type FakeRequest, type FakeResponse } from './http-fake-base.ts';
import { generateSelfSignedRsa } from './self-signed-cert.ts';

/**
 * Fake Google key server for Firebase ID tokens (PROVIDERS.md section 2): serves its own RSA keys as
 * the x509 PEM map (and the JWKS form) with Google's Cache-Control, and signs ID tokens with them,
 * including the deliberately wrong ones verifiers must refuse.
 */

export const X509_PATH = '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com';
export const JWKS_PATH = '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

export interface FirebaseKeyServerOptions {
  projectId: string;
  /** Cache-Control max-age of the key responses. Default 3600. */
  maxAgeSeconds?: number;
  now?: () => number;
}

export interface IdTokenOverrides {
  /** uid; default a random 28-character id like Firebase's. */
  sub?: string;
  /** E.164; default +994501234567. */
  phoneNumber?: string;
  /** Leave out phone_number (and the phone identity). */
  missingPhoneNumber?: boolean;
  aud?: string;
  iss?: string;
  /** iat 2 h ago, exp 1 h ago. */
  expired?: boolean;
  iat?: number;
  exp?: number;
  authTime?: number;
  /** Header kid. A served or retired kid signs with that key; any other value signs with a throw-away key. */
  kid?: string;
  /** Sign with a key the server never published, under a kid it does not know. */
  unknownKid?: boolean;
  omitKid?: boolean;
  /** 'HS256' signs with a symmetric secret (the legacy token shape verifiers must refuse). */
  alg?: 'RS256' | 'HS256';
  hsSecret?: string;
  extraClaims?: Record<string, unknown>;
}

export type FirebaseKeyErrorCode = 404 | 429 | 500 | 503;

interface KeyEntry {
  kid: string;
  privateKeyPem: string;
  certificatePem: string;
}

export interface CertFetchReceipt {
  format: 'x509' | 'jwks';
  kids: string[];
}

const GOOGLE_STATUS: Record<FirebaseKeyErrorCode, string> = {
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export class FirebaseKeyServer extends HttpFake<CertFetchReceipt, FirebaseKeyErrorCode> {
  /** x509 map responses served (200s). */
  certFetches = 0;
  /** JWKS responses served (200s). */
  jwksFetches = 0;
  private active: KeyEntry[] = [];
  private retired: KeyEntry[] = [];

  constructor(private readonly opts: FirebaseKeyServerOptions) {
    super(opts);
  }

  get projectId(): string {
    return this.opts.projectId;
  }

  get issuer(): string {
    return `https://securetoken.google.com/${this.opts.projectId}`;
  }

  /** Full URL of the x509 PEM map (what firebase-admin calls CLIENT_CERT_URL). */
  get certUrl(): string {
    return `${this.url}${X509_PATH}`;
  }

  get jwksUrl(): string {
    return `${this.url}${JWKS_PATH}`;
  }

  /** Kids currently served, oldest first; tokens are signed with the last one by default. */
  get kids(): string[] {
    return this.active.map((k) => k.kid);
  }

  /** The served map {kid: PEM certificate}, without an HTTP round trip. */
  get certificates(): Record<string, string> {
    return Object.fromEntries(this.active.map((k) => [k.kid, k.certificatePem]));
  }

  async init(): Promise<this> {
    this.active = await Promise.all([newKey(), newKey()]);
    return this;
  }

  /** Google-style rotation: the oldest key is retired, a new one is added and signs from now on. */
  async rotateKeys(): Promise<{ added: string; removed: string | undefined }> {
    const added = await newKey();
    const removed = this.active.shift();
    if (removed) this.retired.push(removed);
    this.active.push(added);
    return { added: added.kid, removed: removed?.kid };
  }

  forceError(code: FirebaseKeyErrorCode, times = 1): void {
    if (!(code in GOOGLE_STATUS))
      throw new Error(`firebase key server: unsupported forced error ${String(code)}`);
    this.queueForcedError(code, times);
  }

  async signIdToken(o: IdTokenOverrides = {}): Promise<string> {
    const nowS = Math.floor(this.now() / 1000);
    const iat = o.iat ?? (o.expired ? nowS - 7200 : nowS);
    const exp = o.exp ?? iat + 3600;
    const sub = o.sub ?? randomBytes(21).toString('base64url');
    const phone = o.phoneNumber ?? '+994501234567';
    const claims: Record<string, unknown> = {
      auth_time: o.authTime ?? iat,
      user_id: sub,
      ...(o.missingPhoneNumber ? {} : { phone_number: phone }),
      firebase: { identities: o.missingPhoneNumber ? {} : { phone: [phone] }, sign_in_provider: 'phone' },
      ...o.extraClaims,
    };
    const signing = o.alg === 'HS256' ? undefined : this.signingKey(o);
    const kid = o.omitKid
      ? undefined
      : (o.kid ?? (o.unknownKid ? `unknown-${randomBytes(8).toString('hex')}` : this.newest().kid));
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: o.alg ?? 'RS256', typ: 'JWT', ...(kid ? { kid } : {}) })
      .setIssuer(o.iss ?? this.issuer)
      .setAudience(o.aud ?? this.opts.projectId)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    if (o.alg === 'HS256') return jwt.sign(new TextEncoder().encode(o.hsSecret ?? 'legacy-database-secret'));
    return jwt.sign(await importPKCS8((await signing)?.privateKeyPem ?? '', 'RS256'));
  }

  protected serverErrorResponse(): FakeResponse {
    return googleError(500);
  }

  protected rateLimitResponse(retryAfterSeconds: number): FakeResponse {
    return { ...googleError(429), headers: { 'retry-after': String(retryAfterSeconds) } };
  }

  protected async handle(req: FakeRequest): Promise<FakeResponse> {
    const path = decodeURIComponent(req.path);
    if (req.method !== 'GET' || (path !== X509_PATH && path !== JWKS_PATH)) {
      throw new FakeRefusal(googleError(404), `no route ${req.method} ${path}`, 404);
    }
    const forced = this.takeForcedError();
    if (forced) throw new FakeRefusal(googleError(forced), 'forced error', forced);
    const maxAge = this.opts.maxAgeSeconds ?? 3600;
    const headers = {
      'cache-control': `public, max-age=${maxAge}, must-revalidate, no-transform`,
      expires: new Date(this.now() + maxAge * 1000).toUTCString(),
    };
    const kids = this.kids;
    if (path === X509_PATH) {
      this.certFetches += 1;
      this.recordReceipt(req, { format: 'x509', kids });
      return { status: 200, headers, json: this.certificates };
    }
    const keys = await Promise.all(
      this.active.map(async (k) => ({
        ...(await exportJWK(createPublicKey(k.certificatePem))),
        kid: k.kid,
        alg: 'RS256',
        use: 'sig',
      })),
    );
    this.jwksFetches += 1;
    this.recordReceipt(req, { format: 'jwks', kids });
    return { status: 200, headers, json: { keys } };
  }

  private newest(): KeyEntry {
    const k = this.active[this.active.length - 1];
    if (!k) throw new Error('firebase key server: not initialised');
    return k;
  }

  private async signingKey(o: IdTokenOverrides): Promise<KeyEntry> {
    if (o.unknownKid) return newKey();
    if (o.kid === undefined) return this.newest();
    return [...this.active, ...this.retired].find((k) => k.kid === o.kid) ?? newKey();
  }
}

export async function startFirebaseKeyServer(options: FirebaseKeyServerOptions): Promise<FirebaseKeyServer> {
  const server = await new FirebaseKeyServer(options).init();
  return server.listen();
}

async function newKey(): Promise<KeyEntry> {
  const { privateKeyPem, certificatePem } = await generateSelfSignedRsa(
    'securetoken.system.gserviceaccount.com',
  );
  return { kid: randomBytes(20).toString('hex'), privateKeyPem, certificatePem };
}

function googleError(code: FirebaseKeyErrorCode): FakeResponse {
  return {
    status: code,
    json: {
      error: {
        code,
        message: GOOGLE_STATUS[code].toLowerCase().replace(/_/g, ' '),
        status: GOOGLE_STATUS[code],
      },
    },
  };
}
