import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCaps, parsePriceTable } from '../core/wa-pricing.ts';

/**
 * The one environment schema. Every variable the service reads is here with its default and a
 * description; the README env table is tested against this list. Values never appear in errors.
 */
const str = () => z.string().trim().min(1).optional();
/** The entries of a comma-separated env value, trimmed, empty ones left out. */
export const commaList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** One entry of HTTP_TRUSTED_PROXIES: an address, an address/prefix, or a proxy-addr keyword. */
function trustedProxyEntry(x: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(x)) return true;
  const [addr, prefix, ...rest] = x.split('/');
  const v = isIP(addr ?? '');
  if (v === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (v === 4 ? 32 : 128));
}

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const url = () => z.url({ protocol: /^https?$/ }).optional();

export const ENV_SCHEMA = z.object({
  PORT: int(8080, 0, 65535).describe(
    'HTTP port of the API and owner panel (the CLI reaches the service there too).',
  ),
  HOST: z
    .string()
    .default('127.0.0.1')
    .describe('Interface to listen on; 0.0.0.0 on the restaurant hub box so LAN devices reach it.'),
  DATA_DIR: z
    .string()
    .default('./data')
    .describe(
      'PGlite data directory, used when DATABASE_URL is not set; one process at a time (lock file mupza-comms.lock).',
    ),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional()
    .describe(
      'PostgreSQL connection string; when set, the durable PostgreSQL store is used instead of PGlite.',
    ),
  DATABASE_POOL_SIZE: int(10, 1, 200).describe('PostgreSQL connection pool size per process.'),
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^[1-9]\d{0,6}(kB|MB)$/, 'a size like 16MB or 512kB')
    .default('16MB')
    .describe(
      "PGlite's shared_buffers (page cache inside the process; 16MB keeps idle RSS near 210 MB instead of 330 MB at PostgreSQL's 128MB, same throughput: BENCHMARKS.md).",
    ),
  PGLITE_WORK_MEM: z
    .string()
    .regex(/^[1-9]\d{0,6}(kB|MB)$/, 'a size like 4MB or 512kB')
    .default('4MB')
    .describe("PGlite's work_mem (memory per sort or hash before it spills to disk)."),
  MUPZA_RUNTIME: z
    .enum(['qa', 'development', 'production'])
    .default('qa')
    .describe('Runtime: qa | development | production. Live sends need production.'),
  COMMS_EXTERNAL_SENDS: z
    .enum(['disabled', 'enabled'])
    .default('disabled')
    .describe('External sends switch: disabled | enabled.'),
  COMMS_DRY_RUN_ADAPTERS: z
    .string()
    .default('')
    .describe('Comma-separated adapter ids pinned to dry-run by the operator (e.g. whatsapp_cloud,smtp).'),
  COMMS_ADMIN_TOKEN: str().describe(
    'Operator token of the operator API (/api/v1/admin/*: tenants, owner phones, WhatsApp numbers, devices, backup); the CLI sends it when a running service holds DATA_DIR.',
  ),
  COMMS_BOOTSTRAP_OWNER_TOKEN: str().describe(
    'Owner token of the demo tenant (any runtime); generated outside production when unset.',
  ),
  COMMS_CORS_ORIGINS: z
    .string()
    .default('')
    .describe('Comma-separated origins allowed by CORS; empty keeps CORS closed.'),
  COMMS_BODY_LIMIT_BYTES: int(65_536, 1_024, 10_485_760).describe(
    'Largest JSON body accepted by ordinary routes.',
  ),
  HTTP_TRUSTED_PROXIES: z
    .string()
    .default('')
    .refine(
      (v) => commaList(v).every(trustedProxyEntry),
      'must be comma-separated IP addresses or CIDR ranges (or loopback, linklocal, uniquelocal)',
    )
    .describe(
      'Reverse proxies in front of this service (comma-separated IPs/CIDRs, or loopback, linklocal, uniquelocal): only a request arriving from one of them has its client address taken from X-Forwarded-For (the per-IP OTP limit counts that address). Empty: the TCP peer is the client.',
    ),
  COMMS_BATCH_BODY_LIMIT_BYTES: int(4_194_304, 1_024, 67_108_864).describe(
    'Largest body accepted by POST /api/v1/outbox/batch.',
  ),
  COMMS_WEBHOOK_BODY_LIMIT_BYTES: int(3_145_728, 1_024, 10_485_760).describe(
    'Largest webhook body (WhatsApp, Telegram); Meta says its payloads can be up to 3 MB. Larger bodies get 413 before any signature work.',
  ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level.'),

  COMMS_MAX_ATTEMPTS: int(8, 1, 100).describe('Attempts before a retryable failure becomes dead.'),
  COMMS_LEASE_MS: int(30_000, 1_000, 3_600_000).describe(
    'How long a claimed row stays leased before another dispatcher may reclaim it.',
  ),
  COMMS_POLL_MS: int(1_000, 10, 60_000).describe('Dispatcher poll interval; NOTIFY wakes it sooner.'),
  COMMS_BATCH_SIZE: int(100, 1, 1_000).describe('Rows claimed per dispatcher batch.'),
  COMMS_LAN_CONCURRENCY: int(8, 1, 256).describe('Parallel sends in the LAN lane (in_app).'),
  COMMS_ONLINE_CONCURRENCY: int(4, 1, 256).describe('Parallel sends per online provider.'),
  COMMS_PROVIDER_TIMEOUT_MS: int(10_000, 100, 120_000).describe('Timeout of every online provider call.'),
  COMMS_RETRY_BASE_MS: int(1_000, 10, 600_000).describe(
    'First retry delay; doubles per attempt with jitter.',
  ),
  COMMS_RETRY_CAP_MS: int(3_600_000, 100, 86_400_000).describe('Largest retry delay.'),
  COMMS_PACE: z
    .string()
    .regex(
      /^\s*([a-z_]+=\d+(\.\d+)?\s*(,\s*[a-z_]+=\d+(\.\d+)?\s*)*)?$/,
      'must look like telegram_bot=30,whatsapp_cloud=80',
    )
    .default('telegram_bot=30,whatsapp_cloud=80')
    .describe(
      'Live sends per second per adapter, shared by every dispatcher on the database (adapter=rate,…); unlisted adapters are unpaced. Telegram allows about 30 messages/s per bot; WhatsApp 80 per business phone number by default (a WhatsApp throughput limit, 130429, holds this shared pace).',
    ),
  COMMS_STOP_GRACE_MS: int(5_000, 0, 120_000).describe(
    'On SIGTERM, how long sends in flight may finish before they are aborted and their rows released.',
  ),

  OTP_PROVIDER: z.enum(['twilio', 'firebase']).optional().describe('OTP provider: twilio | firebase.'),
  OTP_TIMEOUT_MS: int(5_000, 100, 60_000).describe(
    'OTP provider call timeout; OTP fails fast, never queues.',
  ),
  OTP_MAX_STARTS_IN_FLIGHT: int(8, 1, 1_000).describe(
    'OTP starts one process works on at once; more are refused at once (503 otp_unavailable, otp_busy), so a sign-in flood or a hanging provider cannot take the process from LAN work.',
  ),
  OTP_TTL_S: int(600, 60, 86_400).describe('Lifetime of one verification.'),
  OTP_MAX_CHECKS: int(5, 1, 20).describe('Checks per verification before it is dead.'),
  OTP_RESEND_INTERVAL_S: int(30, 0, 3_600).describe('Least time between two starts for one phone.'),
  OTP_MAX_STARTS_PER_PHONE_10M: int(3, 1, 100).describe('Starts per phone per 10 minutes.'),
  OTP_MAX_STARTS_PER_PHONE_DAY: int(10, 1, 1_000).describe('Starts per phone per day.'),
  OTP_MAX_STARTS_PER_IP_HOUR: int(10, 1, 10_000).describe('Starts per client IP per hour.'),
  OTP_MAX_STARTS_PER_TENANT_DAY: int(200, 1, 1_000_000).describe('Starts per tenant per day.'),
  OTP_MAX_STARTS_PER_DIAL_CODE_DAY: int(1_000, 1, 1_000_000).describe(
    'Starts per country dial code per day.',
  ),
  OTP_TEST_NUMBERS: z
    .string()
    .default('')
    .describe(
      'QA runtime only: fixed test numbers and codes, "+994500000099:123456,…"; refused in other runtimes.',
    ),
  SESSION_TTL_S: int(43_200, 60, 2_592_000).describe('Owner session lifetime.'),

  TWILIO_ACCOUNT_SID: str().describe('Twilio Account SID (AC…).'),
  TWILIO_AUTH_TOKEN: str().describe('Twilio Auth Token (secret).'),
  TWILIO_VERIFY_SERVICE_SID: str().describe('Twilio Verify Service SID (VA…).'),
  TWILIO_VERIFY_BASE_URL: z
    .url()
    .default('https://verify.twilio.com')
    .describe('Twilio Verify base URL (tests point it at the local fake).'),

  NEXT_PUBLIC_FIREBASE_API_KEY: str().describe('Firebase web API key (public client config).'),
  NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN: str().describe('Firebase auth domain (public client config).'),
  NEXT_PUBLIC_FIREBASE_PROJECT_ID: str().describe(
    'Firebase project id; the ID token aud and iss are checked against it.',
  ),
  NEXT_PUBLIC_FIREBASE_APP_ID: str().describe('Firebase app id (public client config).'),
  CLOUDFLARE_TURNSTILE_SITE_KEY: str().describe(
    'Cloudflare Turnstile site key (public): when set, the sign-in page shows the widget and OTP start requires a verified turnstileToken.',
  ),
  CLOUDFLARE_TURNSTILE_SECRET_KEY: str().describe(
    'Cloudflare Turnstile secret key for siteverify (secret). Missing while the site key is set: every OTP start is refused (503 turnstile_unavailable).',
  ),
  CLOUDFLARE_TURNSTILE_VERIFY_URL: z
    .url()
    .default('https://challenges.cloudflare.com/turnstile/v0/siteverify')
    .describe('Turnstile siteverify URL (tests point it at the local fake).'),
  FIREBASE_CERTS_URL: z
    .url()
    .default('https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com')
    .describe('URL of the x509 certificates that sign Firebase ID tokens.'),

  WHATSAPP_ACCESS_TOKEN: str().describe('Meta WhatsApp Cloud API access token (secret).'),
  WHATSAPP_PHONE_NUMBER_ID: str().describe('WhatsApp phone number id that sends messages.'),
  WHATSAPP_BUSINESS_ACCOUNT_ID: z
    .string()
    .regex(/^\d{1,32}$/, 'must be the numeric WhatsApp Business Account id')
    .optional()
    .describe(
      'WhatsApp Business Account (WABA) id: when set, its message templates are synced (daily and on demand) and template sends are checked against them at enqueue.',
    ),
  WHATSAPP_VERIFY_TOKEN: str().describe('Token Meta echoes in the webhook verification GET (secret).'),
  WHATSAPP_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v23.0')
    .optional()
    .describe('Graph API version, e.g. v23.0.'),
  WHATSAPP_APP_SECRET: str().describe(
    'Meta app secret that signs webhook POSTs (X-Hub-Signature-256) (secret).',
  ),
  WHATSAPP_GRAPH_BASE_URL: z.url().default('https://graph.facebook.com').describe('Graph API base URL.'),
  WHATSAPP_PRICE_TABLE_AZN: z
    .string()
    .refine(
      (v) => typeof parsePriceTable(v) !== 'string',
      'must be category=price pairs in AZN, e.g. marketing=0.086,utility=0.014',
    )
    .optional()
    .describe(
      "Operator's WhatsApp price per billable message by Meta pricing category, in AZN (category=price,…); turns the monthly usage view into an estimate.",
    ),
  WHATSAPP_MONTHLY_CAP: z
    .string()
    .refine((v) => typeof parseCaps(v) !== 'string', 'must be tenant=count pairs, e.g. demo=500,acme=100')
    .optional()
    .describe(
      'Per-tenant cap on billable WhatsApp messages per calendar month (tenant=count,…): once Meta has reported that many billable messages, further template (business-initiated) sends are blocked before any provider call.',
    ),

  TELEGRAM_BOT_TOKEN: str().describe('Telegram bot token (secret; sits in the API URL path).'),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 of A-Z a-z 0-9 _ -')
    .optional()
    .describe('Telegram webhook secret: path segment and X-Telegram-Bot-Api-Secret-Token (secret).'),
  BACKEND_PUBLIC_URL: url().describe('Public HTTPS base URL of this service (for the Telegram webhook).'),
  TELEGRAM_API_BASE_URL: z.url().default('https://api.telegram.org').describe('Telegram Bot API base URL.'),
  TELEGRAM_BOT_USERNAME: str().describe('Bot username for t.me deep links in the owner panel.'),

  SMTP_HOST: str().describe('SMTP server host.'),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional().describe('SMTP server port.'),
  SMTP_USER: str().describe('SMTP user name.'),
  SMTP_PASS: str().describe('SMTP password (secret).'),
  SMTP_FROM: str().describe('From address of outgoing email.'),
  SMTP_SECURE: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true = implicit TLS (465); false = STARTTLS when offered.'),
  SMTP_IGNORE_TLS: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true = never STARTTLS (loopback test servers only).'),
  SMTP_POOL_MAX_CONNECTIONS: int(2, 1, 50).describe('Pooled SMTP connections kept open to SMTP_HOST.'),
  SMTP_POOL_MAX_MESSAGES: int(100, 1, 10_000).describe(
    'Messages sent over one pooled SMTP connection before it is recycled.',
  ),

  LAN_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .describe(
      'Comma-separated browser Origins allowed on the LAN WebSocket; empty allows only same-host and non-browser clients.',
    ),
  LAN_PING_INTERVAL_MS: int(15_000, 100, 300_000).describe(
    'WebSocket ping interval; a device missing two pongs is dropped.',
  ),
  LAN_MAX_MESSAGE_BYTES: int(65_536, 1_024, 1_048_576).describe(
    'Largest WebSocket message accepted from a device.',
  ),
  LAN_INBOX_RETENTION_H: int(72, 1, 8_760).describe(
    'Hours a device inbox entry is kept once its device acked it (or it was dropped at revocation); older ones are pruned.',
  ),
  LAN_PRINTER_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .refine(
      (v) => commaList(v).every((x) => x.includes('/') && trustedProxyEntry(x)),
      'must be comma-separated CIDR ranges like 100.64.0.0/10',
    )
    .describe(
      'Comma-separated CIDR ranges printers may be at besides loopback, private and link-local addresses (the hub opens TCP connections to printer addresses).',
    ),
});

export type Env = z.infer<typeof ENV_SCHEMA>;

/** Env names whose values are secret: scrubbed from every response, log line and stored row. */
export const SECRET_ENV_NAMES = [
  'TWILIO_AUTH_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'WHATSAPP_VERIFY_TOKEN',
  'WHATSAPP_APP_SECRET',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'SMTP_PASS',
  'CLOUDFLARE_TURNSTILE_SECRET_KEY',
  'COMMS_ADMIN_TOKEN',
  'COMMS_BOOTSTRAP_OWNER_TOKEN',
  'DATABASE_URL',
] as const;

/**
 * Env names whose values identify an account rather than unlock it: never returned whole, shown
 * masked (VA…9f3c) wherever a rendered request or message would carry them.
 */
export const IDENTIFIER_ENV_NAMES = [
  'TWILIO_ACCOUNT_SID',
  'TWILIO_VERIFY_SERVICE_SID',
  'WHATSAPP_PHONE_NUMBER_ID',
  'SMTP_USER',
  'SMTP_FROM',
] as const;

export function envDescriptions(): { name: string; description: string; default: string | undefined }[] {
  const shape = ENV_SCHEMA.shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([name, schema]) => {
    const parsed = schema.safeParse(undefined);
    const def = parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined;
    return { name, description: schema.description ?? '', default: def };
  });
}
