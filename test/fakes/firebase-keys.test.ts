import { X509Certificate } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, importX509, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeFaultContract } from './fault-contract.ts';
import { startFirebaseKeyServer, X509_PATH, type FirebaseKeyServer } from './firebase-keys.ts';

const PROJECT = 'mupzaos-test';
let keys: FirebaseKeyServer;

beforeAll(async () => {
  keys = await startFirebaseKeyServer({ projectId: PROJECT, maxAgeSeconds: 1234 });
});
afterAll(() => keys.close());
beforeEach(() => keys.clearFault());

async function fetchCerts(server = keys): Promise<{ res: Response; map: Record<string, string> }> {
  const res = await fetch(server.certUrl);
  return { res, map: (await res.json()) as Record<string, string> };
}

/** The checks PROVIDERS.md section 2 lists, done with jose against the served x509 map. */
async function verify(token: string): Promise<JWTPayload> {
  const { kid, alg } = decodeProtectedHeader(token);
  if (alg !== 'RS256') throw new Error(`alg ${String(alg)}`);
  const { map } = await fetchCerts();
  const pem = kid ? map[kid] : undefined;
  if (!pem) throw new Error('no matching kid');
  const { payload } = await jwtVerify(token, await importX509(pem, 'RS256'), {
    algorithms: ['RS256'],
    issuer: `https://securetoken.google.com/${PROJECT}`,
    audience: PROJECT,
  });
  return payload;
}

describe('firebase key server: certificates', () => {
  it("serves two real X.509 certificates as Google's {kid: PEM} map with Cache-Control max-age", async () => {
    const before = keys.certFetches;
    const { res, map } = await fetchCerts();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=1234\b/);
    expect(Object.keys(map)).toEqual(keys.kids);
    expect(Object.keys(map)).toHaveLength(2);
    for (const pem of Object.values(map)) {
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      const cert = new X509Certificate(pem);
      expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
      expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
    }
    expect(keys.certFetches).toBe(before + 1);
    expect(keys.receipts.at(-1)?.body).toEqual({ format: 'x509', kids: keys.kids });
  });

  it('serves the same keys as a JWKS', async () => {
    const token = await keys.signIdToken();
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(keys.jwksUrl)), {
      issuer: keys.issuer,
      audience: PROJECT,
    });
    expect(payload.aud).toBe(PROJECT);
    expect(keys.jwksFetches).toBeGreaterThan(0);
  });

  it('answers 404 elsewhere, and forced errors in Google error shape', async () => {
    expect((await fetch(`${keys.url}/robot/v1/metadata/x509/other@example.com`)).status).toBe(404);
    keys.forceError(503);
    const res = await fetch(keys.certUrl);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 503, message: 'unavailable', status: 'UNAVAILABLE' } });
    expect((await fetch(keys.certUrl)).status).toBe(200);
  });
});

describe('firebase key server: ID tokens', () => {
  it('signs a phone-auth ID token that passes the firebase-admin checks', async () => {
    const token = await keys.signIdToken({ sub: 'uid-123', phoneNumber: '+994551112233' });
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'RS256', kid: keys.kids.at(-1) });
    const p = await verify(token);
    expect(p).toMatchObject({
      iss: `https://securetoken.google.com/${PROJECT}`,
      aud: PROJECT,
      sub: 'uid-123',
      phone_number: '+994551112233',
      firebase: { sign_in_provider: 'phone', identities: { phone: ['+994551112233'] } },
    });
    expect((p.exp ?? 0) - (p.iat ?? 0)).toBe(3600);
    expect(p.auth_time).toBe(p.iat);
  });

  it('uses the injected clock for iat/exp', async () => {
    const at = Date.UTC(2030, 5, 1);
    const timed = await startFirebaseKeyServer({ projectId: PROJECT, now: () => at });
    try {
      const [, payload] = (await timed.signIdToken()).split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as JWTPayload;
      expect(claims.iat).toBe(at / 1000);
      expect(claims.exp).toBe(at / 1000 + 3600);
    } finally {
      await timed.close();
    }
  });

  it.each([
    ['wrong aud', { aud: 'other-project' }, /aud/],
    ['wrong iss', { iss: 'https://securetoken.google.com/other-project' }, /iss/],
    ['expired', { expired: true }, /exp/],
    ['unknown kid', { unknownKid: true }, /no matching kid/],
    ['HS256', { alg: 'HS256' as const }, /alg HS256/],
  ])('makes a token with %s that a correct verifier refuses', async (_name, overrides, error) => {
    await expect(verify(await keys.signIdToken(overrides))).rejects.toThrow(error);
  });

  it('can leave out phone_number', async () => {
    const p = await verify(await keys.signIdToken({ missingPhoneNumber: true }));
    expect(p.phone_number).toBeUndefined();
    expect(p.sub).toEqual(expect.any(String));
  });

  it('rotateKeys retires the oldest kid: new tokens verify, tokens under the retired kid find no key', async () => {
    const own = await startFirebaseKeyServer({ projectId: PROJECT });
    try {
      const [oldest, second] = own.kids;
      const { added, removed } = await own.rotateKeys();
      expect(removed).toBe(oldest);
      expect(own.kids).toEqual([second, added]);
      const { map } = await fetchCerts(own);
      expect(Object.keys(map)).toEqual([second, added]);
      const stale = await own.signIdToken({ kid: oldest ?? '' });
      expect(decodeProtectedHeader(stale).kid).toBe(oldest);
      expect(map[oldest ?? '']).toBeUndefined();
      expect(decodeProtectedHeader(await own.signIdToken()).kid).toBe(added);
    } finally {
      await own.close();
    }
  });
});

describeFaultContract('firebase key server', {
  fake: () => keys,
  start: () => startFirebaseKeyServer({ projectId: PROJECT }),
  send: (f, signal) => fetch(`${f.url}${X509_PATH}`, signal ? { signal } : {}),
  okStatus: 200,
  expect5xx: (res, body) => {
    expect(res.status).toBe(500);
    expect(body).toEqual({ error: { code: 500, message: 'internal', status: 'INTERNAL' } });
  },
  expect429: (res, body, retryAfter) => {
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(String(retryAfter));
    expect(body).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
  },
});
