import { ADAPTER_IDS, adapterInfo, type AdapterId } from '../../src/core/channels.ts';
import type { Config } from '../../src/config/config.ts';
import type { ProviderAdapter } from '../../src/providers/types.ts';

/** Non-secret provider env that makes every online adapter configured (endpoints: a closed local port). */
export const LIVE_PROVIDER_ENV: Record<string, string> = {
  MUPZA_RUNTIME: 'production',
  COMMS_EXTERNAL_SENDS: 'enabled',
  OTP_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_VERIFY_SERVICE_SID: 'VA00000000000000000000000000000000',
  TWILIO_VERIFY_BASE_URL: 'http://127.0.0.1:9',
  NEXT_PUBLIC_FIREBASE_API_KEY: 'firebase-web-key',
  NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN: 'mupza-demo.firebaseapp.com',
  NEXT_PUBLIC_FIREBASE_PROJECT_ID: 'mupza-demo',
  NEXT_PUBLIC_FIREBASE_APP_ID: '1:1:web:1',
  FIREBASE_CERTS_URL: 'http://127.0.0.1:9/certs',
  WHATSAPP_PHONE_NUMBER_ID: '100000000000001',
  WHATSAPP_API_VERSION: 'v23.0',
  WHATSAPP_GRAPH_BASE_URL: 'http://127.0.0.1:9',
  BACKEND_PUBLIC_URL: 'https://comms.example.az',
  TELEGRAM_API_BASE_URL: 'http://127.0.0.1:9',
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: '9',
  SMTP_USER: 'mailer',
  SMTP_FROM: 'MUPZA <no-reply@example.az>',
};

/** Secret provider env for runs without the test canaries (the benchmark). Placeholders, not credentials. */
export const PLACEHOLDER_SECRETS: Record<string, string> = {
  TWILIO_AUTH_TOKEN: 'placeholder-twilio-auth-token',
  WHATSAPP_ACCESS_TOKEN: 'placeholder-whatsapp-access-token',
  WHATSAPP_VERIFY_TOKEN: 'placeholder-whatsapp-verify-token',
  TELEGRAM_BOT_TOKEN: '123456:placeholder-telegram-bot-token',
  TELEGRAM_WEBHOOK_SECRET: 'placeholder-telegram-webhook-secret',
  SMTP_PASS: 'placeholder-smtp-pass',
};

export interface HungAdapters {
  overrides: Partial<Record<AdapterId, ProviderAdapter>>;
  /** Sends started per adapter (none of them ever returns). */
  started: Record<string, number>;
}

/**
 * Every online adapter replaced by one whose send never settles and ignores its AbortSignal: the
 * worst case of a provider that accepts the connection and never answers. Only the lane timeout
 * ends those calls. The LAN adapter is left alone.
 */
export function hungOnlineAdapters(config: Config): HungAdapters {
  const started: Record<string, number> = {};
  const overrides: Partial<Record<AdapterId, ProviderAdapter>> = {};
  for (const id of ADAPTER_IDS) {
    if (id === 'lan_hub') continue;
    const info = adapterInfo(id);
    started[id] = 0;
    overrides[id] = {
      id,
      info,
      requiredEnv: info.env,
      missingEnv: () => info.env.filter((n) => !config.configured.has(n)),
      render: (row) => ({ kind: 'http', method: 'POST', url: `hung://${id}`, body: { target: row.target } }),
      send: () => {
        started[id]!++;
        return new Promise(() => undefined);
      },
    };
  }
  return { overrides, started };
}
