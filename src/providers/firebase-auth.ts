import { adapterInfo } from '../core/channels.ts';
import { isAppError } from '../core/errors.ts';
import type { OutboxRow } from '../store/rows.ts';
import { missingOf, type AdapterDeps } from './common.ts';
import { FirebaseTokenVerifier } from './firebase-verify.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = [
  'NEXT_PUBLIC_FIREBASE_API_KEY',
  'NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN',
  'NEXT_PUBLIC_FIREBASE_PROJECT_ID',
  'NEXT_PUBLIC_FIREBASE_APP_ID',
] as const;

/**
 * Firebase phone auth: the client SDK sends the SMS; this service only verifies the ID token it
 * yields. An otp_sms row for Firebase records that sign-in was handed to the client SDK.
 */
export function createFirebaseAuthAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  const build = (row: OutboxRow): RenderedRequest => ({
    kind: 'client_sdk',
    note: `Firebase client SDK signInWithPhoneNumber(${row.target}); server verifies the ID token (RS256, aud/iss = project)`,
  });
  return {
    id: 'firebase_auth',
    info: adapterInfo('firebase_auth'),
    requiredEnv: REQUIRED,
    missingEnv: () => {
      const m = missingOf(config, REQUIRED);
      if (config.env.OTP_PROVIDER !== 'firebase') m.unshift('OTP_PROVIDER');
      return m;
    },
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, _ctx: SendContext): Promise<SendResult> {
      // The SMS leaves from the browser SDK; there is nothing for the server to send.
      return { outcome: 'sent', providerMessageId: null, request: redactor.scrubValue(build(row)) };
    },
    // The server's only live dependency is the signing-key URL: the check fetches and reads the keys.
    async verify() {
      const verifier = FirebaseTokenVerifier.fromConfig(config, redactor);
      if (!verifier)
        return {
          ok: false,
          errorCode: 'provider_not_configured',
          message: 'missing NEXT_PUBLIC_FIREBASE_PROJECT_ID',
        };
      try {
        const k = await verifier.checkKeys();
        return {
          ok: true,
          detail: `${k.count} signing certificate(s) read from FIREBASE_CERTS_URL, cached ${k.cachedForS} s`,
        };
      } catch (err) {
        if (isAppError(err)) return { ok: false, errorCode: err.code, message: redactor.scrub(err.message) };
        throw err;
      }
    },
  };
}
