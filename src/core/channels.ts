/** Channels, provider contracts and adapters: the static catalogue the seed page describes. */
export const CHANNELS = ['otp_sms', 'whatsapp', 'telegram', 'email', 'in_app'] as const;
export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

export const ADAPTER_IDS = [
  'twilio_verify',
  'firebase_auth',
  'whatsapp_cloud',
  'telegram_bot',
  'smtp',
  'lan_hub',
] as const;
export type AdapterId = (typeof ADAPTER_IDS)[number];

export interface ContractInfo {
  id: Channel;
  name: string;
  provider: string;
  note: string;
  adapters: AdapterId[];
  /** Env names shown for the contract on the readiness page (seed wording). */
  env: string[];
  lanSafe: boolean;
}

/**
 * Env names shown on a contract (configured yes/no) that it does not need: Cloudflare Turnstile
 * guards OTP start when it is set, and OTP works without it.
 */
export const OPTIONAL_ENV: ReadonlySet<string> = new Set([
  'CLOUDFLARE_TURNSTILE_SITE_KEY',
  'CLOUDFLARE_TURNSTILE_SECRET_KEY',
]);

export const CONTRACTS: readonly ContractInfo[] = [
  {
    id: 'otp_sms',
    name: 'OTP SMS',
    provider: 'Twilio Verify or Firebase phone auth',
    note: 'OTP is online-only and must never block POS, waiter, kitchen or printer LAN workflows.',
    adapters: ['twilio_verify', 'firebase_auth'],
    env: [
      'OTP_PROVIDER',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_VERIFY_SERVICE_SID',
      'CLOUDFLARE_TURNSTILE_SITE_KEY',
      'CLOUDFLARE_TURNSTILE_SECRET_KEY',
    ],
    lanSafe: false,
  },
  {
    id: 'whatsapp',
    name: 'WhatsApp',
    provider: 'Meta WhatsApp Cloud API',
    note: 'Use outbox/audit first; real sends require provider env and explicit tenant policy.',
    adapters: ['whatsapp_cloud'],
    // The app secret verifies the signature of every webhook POST: without it no status arrives.
    env: [
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_PHONE_NUMBER_ID',
      'WHATSAPP_VERIFY_TOKEN',
      'WHATSAPP_API_VERSION',
      'WHATSAPP_APP_SECRET',
    ],
    lanSafe: false,
  },
  {
    id: 'telegram',
    name: 'Telegram',
    provider: 'Telegram Bot API',
    note: 'Never print bot token or chat id; only expose configured yes/no.',
    adapters: ['telegram_bot'],
    env: ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'BACKEND_PUBLIC_URL'],
    lanSafe: false,
  },
  {
    id: 'email',
    name: 'Email',
    provider: 'SMTP / Nodemailer-compatible provider',
    note: 'SMTP credentials stay server-side; frontend only sees delivery status.',
    adapters: ['smtp'],
    env: ['SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASS', 'SMTP_FROM'],
    lanSafe: false,
  },
  {
    id: 'in_app',
    name: 'In-app notification',
    provider: 'MUPZAOS notification center',
    note: 'In-app notifications are LAN-safe and can be queued locally.',
    adapters: ['lan_hub'],
    env: [],
    lanSafe: true,
  },
];

export interface AdapterInfo {
  id: AdapterId;
  name: string;
  provider: string;
  channel: Channel;
  lanSafe: boolean;
  endpoint: string;
  webhook: string;
  note: string;
  /** Env names the adapter needs to run live. */
  env: string[];
}

export const ADAPTERS: readonly AdapterInfo[] = [
  {
    id: 'twilio_verify',
    name: 'OTP SMS via Twilio Verify',
    provider: 'Twilio Verify',
    channel: 'otp_sms',
    lanSafe: false,
    endpoint: 'https://verify.twilio.com/v2/Services/{TWILIO_VERIFY_SERVICE_SID}/Verifications',
    webhook: 'none',
    note: 'OTP remains online-only and cannot block LAN cashier, waiter, kitchen or printer workflows.',
    env: [
      'OTP_PROVIDER',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_VERIFY_SERVICE_SID',
      'CLOUDFLARE_TURNSTILE_SITE_KEY',
      'CLOUDFLARE_TURNSTILE_SECRET_KEY',
    ],
  },
  {
    id: 'firebase_auth',
    name: 'OTP SMS via Firebase phone auth',
    provider: 'Firebase Auth',
    channel: 'otp_sms',
    lanSafe: false,
    endpoint: 'Firebase client auth SDK (server verifies the ID token)',
    webhook: 'none',
    note: 'Only public Firebase config names are modeled; service-account secrets stay server-side and out of Git.',
    env: [
      'NEXT_PUBLIC_FIREBASE_API_KEY',
      'NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN',
      'NEXT_PUBLIC_FIREBASE_PROJECT_ID',
      'NEXT_PUBLIC_FIREBASE_APP_ID',
    ],
  },
  {
    id: 'whatsapp_cloud',
    name: 'WhatsApp Cloud API',
    provider: 'Meta Graph API',
    channel: 'whatsapp',
    lanSafe: false,
    endpoint: 'https://graph.facebook.com/{WHATSAPP_API_VERSION}/{WHATSAPP_PHONE_NUMBER_ID}/messages',
    webhook: 'GET verify token + POST inbound message webhook',
    note: 'Real sends require outbox audit, tenant opt-in, provider env and explicit non-QA runtime.',
    env: [
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_PHONE_NUMBER_ID',
      'WHATSAPP_VERIFY_TOKEN',
      'WHATSAPP_API_VERSION',
    ],
  },
  {
    id: 'telegram_bot',
    name: 'Telegram Bot API',
    provider: 'Telegram',
    channel: 'telegram',
    lanSafe: false,
    endpoint: 'https://api.telegram.org/bot{TELEGRAM_BOT_TOKEN}/sendMessage',
    webhook: 'POST /telegram/webhook/{TELEGRAM_WEBHOOK_SECRET}',
    note: 'Bot token and webhook secret are never returned; readiness exposes only missing/configured env names.',
    env: ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'BACKEND_PUBLIC_URL'],
  },
  {
    id: 'smtp',
    name: 'Email via SMTP',
    provider: 'SMTP / Nodemailer-compatible',
    channel: 'email',
    lanSafe: false,
    endpoint: 'server-side SMTP transport',
    webhook: 'none',
    note: 'SMTP credentials stay server-side; frontend and mock API expose status only.',
    env: ['SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASS', 'SMTP_FROM'],
  },
  {
    id: 'lan_hub',
    name: 'In-app LAN notification',
    provider: 'MUPZAOS local hub',
    channel: 'in_app',
    lanSafe: true,
    endpoint: 'local hub queue (WebSocket /api/v1/lan/ws)',
    webhook: 'none',
    note: 'LAN notifications are offline-safe and remain available without external providers.',
    env: [],
  },
];

export function contractFor(channel: Channel): ContractInfo {
  const c = CONTRACTS.find((x) => x.id === channel);
  if (!c) throw new Error(`no contract for channel ${channel}`);
  return c;
}

export function adapterInfo(id: AdapterId): AdapterInfo {
  const a = ADAPTERS.find((x) => x.id === id);
  if (!a) throw new Error(`no adapter ${id}`);
  return a;
}

export function isLanSafe(channel: Channel): boolean {
  return contractFor(channel).lanSafe;
}

/**
 * The env names a contract needs, for the configured choice of provider: OTP lists Twilio's names
 * unless OTP_PROVIDER picks Firebase. A contract is configured only when every one of them is set.
 */
export function contractEnv(contract: ContractInfo, otpProvider: string | undefined): readonly string[] {
  if (contract.id === 'otp_sms' && otpProvider === 'firebase') {
    return ['OTP_PROVIDER', ...(ADAPTERS.find((a) => a.id === 'firebase_auth')?.env ?? [])];
  }
  return contract.env;
}
