import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { createFirebaseAuthAdapter } from '../../src/providers/firebase-auth.ts';
import { FirebaseTokenVerifier, maxAgeMs } from '../../src/providers/firebase-verify.ts';
import {
  startFirebaseKeyServer,
  type FirebaseKeyServer,
  type IdTokenOverrides,
} from '../fakes/firebase-keys.ts';
import { CANARIES } from '../helpers/canary.ts';
import { testConfig } from '../helpers/runtime.ts';

const PROJECT = 'mupzaos-test';
let clock = Date.now();
const now = () => clock;
let keys: FirebaseKeyServer;
const redactor = createRedactor(CANARIES);

beforeAll(async () => {
  keys = await startFirebaseKeyServer({ projectId: PROJECT, maxAgeSeconds: 600, now });
});
afterAll(() => keys.close());

const verifier = () =>
  new FirebaseTokenVerifier({ projectId: PROJECT, certsUrl: keys.certUrl, redactor, timeoutMs: 2_000, now });

async function refusal(v: FirebaseTokenVerifier, token: string): Promise<string> {
  const err = await v.verify(token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).code;
}

describe('FirebaseTokenVerifier against the fake key server', () => {
  it('accepts a valid phone sign-in token: uid, phone number, auth time', async () => {
    const token = await keys.signIdToken({ sub: 'uid-owner-1', phoneNumber: '+994501112233' });
    const id = await verifier().verify(token);
    expect(id).toEqual({
      uid: 'uid-owner-1',
      phoneNumber: '+994501112233',
      authTime: new Date(Math.floor(clock / 1000) * 1000),
      signInProvider: 'phone',
    });
  });

  it('refuses each broken token with its own code', async () => {
    const v = verifier();
    const cases: [string, IdTokenOverrides, string][] = [
      ['wrong aud', { aud: 'another-project' }, 'firebase_wrong_audience'],
      ['wrong iss', { iss: 'https://securetoken.google.com/another-project' }, 'firebase_wrong_issuer'],
      ['expired', { expired: true }, 'firebase_token_expired'],
      ['unknown kid', { unknownKid: true }, 'firebase_unknown_kid'],
      ['HS256', { alg: 'HS256' }, 'firebase_wrong_algorithm'],
      ['missing phone_number', { missingPhoneNumber: true }, 'firebase_missing_phone'],
    ];
    const codes: string[] = [];
    for (const [, o, code] of cases) {
      const got = await refusal(v, await keys.signIdToken(o));
      expect(got).toBe(code);
      codes.push(got);
    }
    expect(new Set(codes).size).toBe(cases.length);
  });

  it('refuses a missing kid, a sub over 128, an iat or auth_time in the future, a tampered signature and garbage', async () => {
    const v = verifier();
    const nowS = Math.floor(clock / 1000);
    expect(await refusal(v, await keys.signIdToken({ omitKid: true }))).toBe('firebase_token_invalid');
    expect(await refusal(v, await keys.signIdToken({ sub: 'u'.repeat(129) }))).toBe('firebase_token_invalid');
    expect(await refusal(v, await keys.signIdToken({ iat: nowS + 600, exp: nowS + 3600 }))).toBe(
      'firebase_token_invalid',
    );
    expect(await refusal(v, await keys.signIdToken({ authTime: nowS + 600 }))).toBe('firebase_token_invalid');
    const good = await keys.signIdToken();
    const [h, p, s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), phone_number: '+994509999999' })).toString('base64url')}.${s}`;
    expect(await refusal(v, forged)).toBe('firebase_token_invalid');
    expect(await refusal(v, 'not-a-jwt')).toBe('firebase_token_invalid');
    expect(await refusal(v, 'a.b.c')).toBe('firebase_token_invalid');
  });

  it('caches the keys for the max-age of the certificate answer, then fetches again', async () => {
    const v = verifier();
    const before = keys.certFetches;
    for (let i = 0; i < 3; i++) await v.verify(await keys.signIdToken());
    expect(keys.certFetches - before).toBe(1);
    clock += 601_000;
    await v.verify(await keys.signIdToken());
    expect(keys.certFetches - before).toBe(2);
    expect(maxAgeMs('public, max-age=19845, must-revalidate, no-transform')).toBe(19_845_000);
    expect(maxAgeMs('no-cache')).toBeUndefined();
  });

  it('after a key rotation a token under the new kid refetches the keys (at most once per 30 s) and is accepted', async () => {
    const v = verifier();
    await v.verify(await keys.signIdToken());
    await keys.rotateKeys();
    const before = keys.certFetches;
    // Within 30 s of the last fetch an unknown kid is refused without a refetch (no fetch storm).
    expect(await refusal(v, await keys.signIdToken())).toBe('firebase_unknown_kid');
    expect(keys.certFetches).toBe(before);
    clock += 31_000;
    const id = await v.verify(await keys.signIdToken({ sub: 'after-rotation' }));
    expect(id.uid).toBe('after-rotation');
    expect(keys.certFetches).toBe(before + 1);
  });

  it('a key server answering 503 is firebase_keys_unavailable; the adapter credential check reports it', async () => {
    keys.forceError(503);
    expect(await refusal(verifier(), await keys.signIdToken())).toBe('firebase_keys_unavailable');
    const config = testConfig({ NEXT_PUBLIC_FIREBASE_PROJECT_ID: PROJECT, FIREBASE_CERTS_URL: keys.certUrl });
    const adapter = createFirebaseAuthAdapter({ config, redactor: createRedactor(config.secrets) });
    expect(await adapter.verify!(AbortSignal.timeout(2_000))).toMatchObject({
      ok: true,
      detail: expect.stringContaining('2 signing certificate(s)'),
    });
    keys.forceError(500);
    expect(await adapter.verify!(AbortSignal.timeout(2_000))).toMatchObject({
      ok: false,
      errorCode: 'firebase_keys_unavailable',
    });
  });
});
