import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startFirebaseKeyServer,
  type FirebaseKeyServer,
  type IdTokenOverrides,
} from '../fakes/firebase-keys.ts';
import { drivers } from '../helpers/db.ts';
import { addOwner, azPhone, createOtpApp, FakeClock, type OtpApp } from './helpers.ts';

const PROJECT = 'mupzaos-owner-panel';

for (const kind of await drivers()) {
  describe(`Firebase phone sign-in against the fake key server [${kind}]`, () => {
    const clock = new FakeClock();
    let keys: FirebaseKeyServer;
    let h: OtpApp;
    const owner = azPhone();

    beforeAll(async () => {
      keys = await startFirebaseKeyServer({ projectId: PROJECT, maxAgeSeconds: 3600, now: clock.now });
      h = await createOtpApp(kind, clock, {
        env: {
          OTP_PROVIDER: 'firebase',
          NEXT_PUBLIC_FIREBASE_API_KEY: 'web-api-key',
          NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN: `${PROJECT}.firebaseapp.com`,
          NEXT_PUBLIC_FIREBASE_PROJECT_ID: PROJECT,
          NEXT_PUBLIC_FIREBASE_APP_ID: '1:1:web:1',
          FIREBASE_CERTS_URL: keys.certUrl,
        },
      });
      await addOwner(h.app, owner);
    });
    afterAll(async () => {
      await h.app.close();
      await keys.close();
    });

    const signIn = (idToken: unknown, tenant: string | null = 'acme') =>
      h.post('/api/v1/auth/firebase', { idToken, ...(tenant ? { tenant } : {}) });

    it('while the key server is down: 503 firebase_keys_unavailable, then sign-in works once it is back', async () => {
      keys.forceError(503);
      const down = await signIn(await keys.signIdToken({ phoneNumber: owner }));
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ error: 'firebase_keys_unavailable' });
      const up = await signIn(await keys.signIdToken({ phoneNumber: owner }));
      expect(up.statusCode, up.body).toBe(200);
    });

    it('a valid phone sign-in token of an owner gives the same kind of session as OTP: opaque, expiring, audited', async () => {
      const r = await signIn(await keys.signIdToken({ sub: 'firebase-uid-1', phoneNumber: owner }));
      expect(r.statusCode, r.body).toBe(200);
      const s = r.json() as { token: string; expiresAt: string };
      expect(s.token).toMatch(/^mz_owner_/);
      expect(Date.parse(s.expiresAt)).toBe(clock.now() + 43_200_000);
      const me = await h.app.as(s.token, { method: 'GET', url: '/api/v1/me' });
      expect(me.json()).toMatchObject({ role: 'owner', subject: 'acme-owner', tenant: { id: 'acme' } });
      const stored = await h.app.db.query<{ label: string; expires_at: Date }>(
        `SELECT label, expires_at FROM api_tokens WHERE label = 'session:firebase'`,
      );
      expect(stored.rows.length).toBeGreaterThanOrEqual(1);
      const audit = await h.app.db.query<{ detail: { method: string; firebaseUid?: string } }>(
        `SELECT detail FROM audit_events WHERE entity = 'session' AND action = 'created' ORDER BY id DESC LIMIT 1`,
      );
      expect(audit.rows[0]!.detail).toMatchObject({ method: 'firebase', firebaseUid: 'firebase-uid-1' });
      // The raw token is nowhere at rest.
      const raw = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM api_tokens WHERE token_hash = $1`,
        [s.token],
      );
      expect(Number(raw.rows[0]!.n)).toBe(0);
    });

    it('refuses every invalid token with its own code, and issues no session', async () => {
      const sessionsBefore = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM api_tokens WHERE label = 'session:firebase'`,
      );
      const nowS = Math.floor(clock.now() / 1000);
      const cases: [string, IdTokenOverrides, string][] = [
        ['another project (aud)', { aud: 'another-project' }, 'firebase_wrong_audience'],
        [
          'another issuer (iss)',
          { iss: 'https://securetoken.google.com/another-project' },
          'firebase_wrong_issuer',
        ],
        ['expired', { expired: true }, 'firebase_token_expired'],
        ['unknown kid', { unknownKid: true }, 'firebase_unknown_kid'],
        ['HS256', { alg: 'HS256' }, 'firebase_wrong_algorithm'],
        ['no phone_number', { missingPhoneNumber: true }, 'firebase_missing_phone'],
        ['no kid', { omitKid: true }, 'firebase_token_invalid'],
        ['sub over 128 chars', { sub: 'u'.repeat(129) }, 'firebase_token_invalid'],
        ['issued in the future', { iat: nowS + 600, exp: nowS + 3600 }, 'firebase_token_invalid'],
        // Signed in with the phone 11 minutes ago, token refreshed now: too old to open a session.
        ['phone sign-in older than the OTP lifetime', { authTime: nowS - 11 * 60 }, 'firebase_token_expired'],
      ];
      for (const [name, o, code] of cases) {
        const r = await signIn(await keys.signIdToken({ phoneNumber: owner, ...o }));
        expect(r.statusCode, name).toBe(401);
        expect((r.json() as { error: string }).error, name).toBe(code);
      }
      const good = await keys.signIdToken({ phoneNumber: owner });
      const [head, payload, sig] = good.split('.');
      const forged = `${head}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), phone_number: azPhone() })).toString('base64url')}.${sig}`;
      for (const bad of [forged, 'not-a-jwt', 'a.b.c']) {
        const r = await signIn(bad);
        expect(r.statusCode).toBe(401);
        expect(r.json()).toMatchObject({ error: 'firebase_token_invalid' });
      }
      const sessionsAfter = await h.app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM api_tokens WHERE label = 'session:firebase'`,
      );
      expect(sessionsAfter.rows[0]!.n).toBe(sessionsBefore.rows[0]!.n);
    });

    it('a verified phone that is not an owner of the tenant gets no session (403); nor does an owner phone on another tenant', async () => {
      const stranger = await signIn(await keys.signIdToken({ phoneNumber: azPhone() }));
      expect(stranger.statusCode).toBe(403);
      expect(stranger.json()).toMatchObject({ error: 'forbidden' });
      // The default tenant is "demo", which does not exist in this test: 404, not a session for acme.
      const noTenant = await signIn(await keys.signIdToken({ phoneNumber: owner }), null);
      expect(noTenant.statusCode).toBe(404);
    });

    it('bad input: 4xx with a stable code', async () => {
      const cases: [unknown, number, string][] = [
        [{}, 400, 'validation_failed'],
        [{ idToken: 42 }, 400, 'validation_failed'],
        [{ idToken: '' }, 400, 'validation_failed'],
        [{ idToken: 'x'.repeat(9_000) }, 400, 'validation_failed'],
        [{ idToken: 'a.b.c', tenant: 'Not A Tenant' }, 400, 'validation_failed'],
        [{ idToken: 'a.b.c', extra: true }, 400, 'validation_failed'],
        [[], 400, 'validation_failed'],
      ];
      for (const [body, status, code] of cases) {
        const r = await h.post('/api/v1/auth/firebase', body);
        expect(r.statusCode, JSON.stringify(body).slice(0, 60)).toBe(status);
        expect((r.json() as { error: string }).error).toBe(code);
      }
      const notJson = await h.post('/api/v1/auth/firebase', '{"idToken":', {
        headers: { 'content-type': 'application/json' },
      });
      expect(notJson.statusCode).toBe(400);
      expect(notJson.json()).toMatchObject({ error: 'bad_request' });
    });

    it('OTP start is refused while OTP_PROVIDER is firebase (the SMS is sent by the client SDK)', async () => {
      const r = await h.post('/api/v1/auth/otp/start', { tenant: 'acme', phone: owner });
      expect(r.statusCode).toBe(503);
      expect((r.json() as { message: string }).message).toMatch(/firebase/);
    });
  });
}
