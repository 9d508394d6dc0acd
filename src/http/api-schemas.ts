import { z } from 'zod';
import { STATUSES } from '../core/status.ts';
import { CHANNELS, ADAPTER_IDS } from '../core/channels.ts';

/** Response shapes of the v1 API, shared by the OpenAPI document and the typed client. */
export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  requestId: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const EnqueueAnswer = z.object({
  id: z.uuid(),
  status: z.enum(STATUSES),
  reason: z.string().nullable(),
  created: z.boolean().optional(),
});
export const BatchAnswer = z.object({ items: z.array(EnqueueAnswer) });

export const OutboxItem = z.object({
  id: z.uuid(),
  channel: z.enum(CHANNELS),
  target: z.string(),
  title: z.string().nullable(),
  subject: z.string().nullable(),
  body: z.string().nullable(),
  template: z.string().nullable(),
  source: z.string(),
  status: z.enum(STATUSES),
  reason: z.string().nullable(),
  adapter: z.enum(ADAPTER_IDS),
  mode: z.enum(['dry_run', 'live', 'lan']).nullable(),
  offlineSafe: z.boolean(),
  attemptCount: z.number().int(),
  maxAttempts: z.number().int(),
  sendAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  lastErrorCode: z.string().nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export const Attempt = z.object({
  attempt: z.number().int(),
  adapter: z.string(),
  mode: z.enum(['dry_run', 'live', 'lan']),
  outcome: z.string(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  request: z.unknown(),
  response: z.unknown(),
  worker: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number(),
});
// The item view also carries the message's template data (lists never do).
export const OutboxItemDetail = OutboxItem.extend({
  data: z.record(z.string(), z.unknown()).nullable(),
  attempts: z.array(Attempt),
});
export const OutboxPage = z.object({ items: z.array(OutboxItem), nextCursor: z.string().nullable() });
export const AuditEvent = z.object({
  id: z.number(),
  at: z.string().nullable(),
  actor: z.string(),
  action: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  reason: z.string().nullable(),
  detail: z.unknown(),
});
export const AuditTrail = z.object({ events: z.array(AuditEvent) });
export const TransitionAnswer = z.object({
  id: z.uuid(),
  status: z.enum(STATUSES),
  reason: z.string().nullable(),
});
const OptIns = z.object({
  otp_sms: z.boolean(),
  whatsapp: z.boolean(),
  telegram: z.boolean(),
  email: z.boolean(),
  in_app: z.boolean(),
});
export const PolicyAnswer = z.object({ optIns: OptIns, reevaluated: z.number().int().optional() });
export const TenantInfo = z.object({
  id: z.string(),
  name: z.string(),
  country: z.string(),
  currency: z.string(),
  timezone: z.string(),
  locale: z.string(),
});
export const MeAnswer = z.object({
  tenant: TenantInfo,
  role: z.enum(['owner', 'device', 'service']),
  subject: z.string(),
});
export const TenantCreated = z.object({ tenant: TenantInfo, ownerToken: z.string() });
export const AuthConfig = z.object({
  otpProvider: z.enum(['twilio', 'firebase']).nullable(),
  otpReady: z
    .boolean()
    .describe('Whether a code can be sent now: the chosen provider has its env, or QA test numbers are set.'),
  otpMissing: z
    .enum(['provider', 'provider_env'])
    .nullable()
    .describe('Why not: no OTP_PROVIDER chosen, or its env is incomplete.'),
  runtime: z.enum(['qa', 'development', 'production']),
  firebase: z
    .object({
      apiKey: z.string().nullable(),
      authDomain: z.string().nullable(),
      projectId: z.string(),
      appId: z.string().nullable(),
    })
    .nullable(),
  turnstileSiteKey: z
    .string()
    .nullable()
    .describe('Cloudflare Turnstile site key (public) when OTP start needs a turnstileToken'),
});
const EnvName = z.object({
  name: z.string(),
  configured: z.boolean(),
  optional: z
    .literal(true)
    .optional()
    .describe('Shown for the contract but not needed by it (Turnstile guards OTP start when set)'),
});
export const Readiness = z
  .object({
    tenant: TenantInfo,
    runtime: z.enum(['qa', 'development', 'production']),
    externalSends: z.enum(['enabled', 'disabled']),
    store: z.object({ kind: z.enum(['pglite', 'postgres']), durable: z.boolean(), note: z.string() }),
    internet: z
      .enum(['up', 'down', 'unknown'])
      .describe(
        'Can the hub reach its online providers (from its online lanes); LAN delivery works either way',
      ),
    printers: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          state: z.enum(['unknown', 'online', 'offline']),
          reason: z
            .string()
            .nullable()
            .describe('Why the printer is offline (paper_end, cover_open, error, unreachable, no_status)'),
          since: z.string(),
          unconfirmed: z.boolean().describe('confirm:"write": prints are not confirmed by a status query'),
        }),
      )
      .describe("The tenant's kitchen printers as the hub's print workers last found them"),
    summary: z.object({
      providers: z.number(),
      outboxItems: z.number(),
      envRequiredProviders: z.number(),
      lanSafeItems: z.number(),
      dryRunAdapters: z.number(),
    }),
    flags: z.object({
      externalSendsDisabled: z.boolean(),
      outboxAuditRequired: z.boolean(),
      otpOnlineOnly: z.boolean(),
      posLanProtected: z.boolean(),
      cashierApprovalUntouched: z.boolean(),
      secretsNeverReturned: z.boolean(),
      providerAdaptersDryRun: z.boolean(),
      envValuesRedacted: z.boolean(),
    }),
    contracts: z.array(
      z.object({
        id: z.enum(CHANNELS),
        name: z.string(),
        provider: z.string(),
        note: z.string(),
        status: z.enum(['env_required', 'configured', 'lan_ready']),
        adapters: z.array(z.string()),
        env: z.array(EnvName),
      }),
    ),
    adapters: z.array(
      z
        .object({
          id: z.enum(ADAPTER_IDS),
          name: z.string(),
          provider: z.string(),
          channel: z.enum(CHANNELS),
          mode: z.enum(['dry_run', 'live', 'lan']),
          lanSafe: z.boolean(),
          endpoint: z.string(),
          webhook: z.string(),
          note: z.string(),
          env: z.array(EnvName),
        })
        .passthrough(),
    ),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })),
  })
  .passthrough();
export const AuditVerify = z.object({
  ok: z.boolean(),
  tenant: z.string(),
  checked: z.number(),
  unsealed: z.number(),
  firstBroken: z.object({ seq: z.number(), auditId: z.number().nullable(), reason: z.string() }).nullable(),
});
export const IdParams = z.object({ id: z.guid() });
