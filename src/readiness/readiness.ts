import type { InternetState } from '../core/internet.ts';
import type { Config } from '../config/config.ts';
import { ADAPTERS, CONTRACTS, contractEnv, OPTIONAL_ENV } from '../core/channels.ts';
import { graphVersionWarning } from '../core/graph-api-versions.ts';
import type { Redactor } from '../core/redact.ts';
import { listPrinters } from '../store/sql/printers.ts';
import { adapterIsLive } from '../outbox/gate-inputs.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Db, Queryable } from '../store/driver.ts';
import { appendOnlyTriggers, outboxCounts, webhookBusinessChanges } from '../store/sql/readiness.ts';
import type { TenantRow } from '../store/rows.ts';
import { tenantView } from '../store/tenants.ts';
import { webhookReadiness } from '../webhooks/registration.ts';

export interface ReadinessContext {
  db: Db;
  config: Config;
  registry: ProviderRegistry;
  redactor: Redactor;
  secretGuardInstalled: boolean;
  /** The LAN lane runs apart from the online lanes (its own loop and concurrency). */
  lanLaneSeparate: boolean;
  verifications?: ReadonlyMap<string, { at: string; ok: boolean; detail: string }>;
  /** The hub's internet state, as its devices are told (src/core/internet.ts). */
  internet?: InternetState;
  /** The clock the dated checks use (tests). */
  now?: () => Date;
}

export type AdapterMode = 'dry_run' | 'live' | 'lan';

export function adapterMode(
  ctx: Pick<ReadinessContext, 'config' | 'registry'>,
  id: (typeof ADAPTERS)[number]['id'],
): AdapterMode {
  const a = ctx.registry.get(id);
  if (a.info.lanSafe) return 'lan';
  return adapterIsLive(ctx.config, a) ? 'live' : 'dry_run';
}

const envList = (config: Config, names: readonly string[]) =>
  names.map((name) => ({
    name,
    configured: config.configured.has(name),
    ...(OPTIONAL_ENV.has(name) ? { optional: true } : {}),
  }));

/**
 * The readiness document: counts, the eight safety flags and every provider, all computed from the
 * running configuration and the database. Env values never enter it; only names and yes/no.
 */
export async function computeReadiness(ctx: ReadinessContext, tenant: TenantRow) {
  const { config, db } = ctx;
  // Tenant-scoped reads run under row-level security like every request path.
  const scoped = <T>(fn: (q: Queryable) => Promise<T>) => db.tx(fn, { tenantId: tenant.id, readOnly: true });
  const c = (await scoped((q) => outboxCounts(q, tenant.id))) ?? {
    total: 0,
    lan: 0,
    otp_waiting: 0,
    unaudited: 0,
  };
  const triggers = await appendOnlyTriggers(db);
  // Inbound traffic may only ever record itself or report delivery status: anything else done by a
  // webhook actor would mean an inbound message changed business state.
  const inbound = await scoped((q) => webhookBusinessChanges(q, tenant.id));
  // Kitchen printers as the hub's print workers last found them (online, offline with the reason).
  const printers = (await scoped((q) => listPrinters(q, tenant.id))).map((p) => ({
    id: p.device_id,
    name: p.name,
    state: p.state,
    reason: p.reason,
    since: new Date(p.state_since).toISOString(),
    unconfirmed: p.confirm === 'write',
  }));

  const adapters = ADAPTERS.map((a) => {
    const mode = adapterMode(ctx, a.id);
    const v = ctx.verifications?.get(a.id);
    return {
      id: a.id,
      name: a.name,
      provider: a.provider,
      channel: a.channel,
      mode,
      lanSafe: a.lanSafe,
      endpoint: a.endpoint,
      webhook: a.webhook,
      note: a.note,
      env: envList(config, a.env),
      ...(v ? { verification: v } : {}),
    };
  });

  const contracts = CONTRACTS.map((k) => {
    const env = envList(config, contractEnv(k, config.env.OTP_PROVIDER));
    // Configured means every listed name is set and an adapter can run: one missing name (e.g. the
    // WhatsApp verify token or app secret, which the webhooks need) keeps the contract env_required.
    const noAdapter = k.adapters.every((id) => ctx.registry.get(id).missingEnv().length > 0);
    const missing = noAdapter || env.some((e) => !e.configured && !('optional' in e));
    const status = k.lanSafe ? 'lan_ready' : missing ? 'env_required' : 'configured';
    return { id: k.id, name: k.name, provider: k.provider, note: k.note, status, adapters: k.adapters, env };
  });

  const onlineAdapters = adapters.filter((a) => !a.lanSafe);
  const flags = {
    externalSendsDisabled: !(config.runtime === 'production' && config.externalSends === 'enabled'),
    outboxAuditRequired: c.unaudited === 0 && triggers === 2,
    otpOnlineOnly: c.otp_waiting === 0 && config.env.OTP_TIMEOUT_MS > 0,
    posLanProtected:
      ctx.lanLaneSeparate && adapters.filter((a) => a.lanSafe).every((a) => a.env.length === 0),
    cashierApprovalUntouched: inbound === 0,
    secretsNeverReturned: ctx.secretGuardInstalled,
    providerAdaptersDryRun: onlineAdapters.every((a) => a.mode === 'dry_run'),
    envValuesRedacted: true,
  };

  const doc = {
    tenant: tenantView(tenant),
    runtime: config.runtime,
    externalSends: config.externalSends,
    store: {
      kind: db.kind,
      durable: db.durable,
      note:
        db.kind === 'pglite'
          ? 'Embedded PGlite: zero setup, one connection, never fsyncs (rows survive a killed process, not a power cut). PostgreSQL is the durable production store.'
          : 'PostgreSQL: the durable production store.',
    },
    summary: {
      providers: CONTRACTS.length,
      outboxItems: c.total,
      envRequiredProviders: contracts.filter((k) => k.status === 'env_required').length,
      lanSafeItems: c.lan,
      dryRunAdapters: adapters.filter((a) => a.mode === 'dry_run').length,
    },
    flags,
    // The same state LAN devices are shown: 'down' = online providers unreachable; LAN keeps working.
    internet: ctx.internet ?? 'unknown',
    printers,
    contracts,
    adapters,
    // Whether `mupza-comms telegram set-webhook` registered the webhook this configuration needs.
    webhooks: await webhookReadiness(db, config),
    warnings: readinessWarnings(config, ctx.now?.() ?? new Date()),
  };
  // Env values redacted is checked, not assumed: the finished document must hold no configured value.
  doc.flags.envValuesRedacted =
    ctx.redactor.findNames(JSON.stringify(doc)).length === 0 && !leaksEnvValue(config, doc);
  return doc;
}

/** Things the operator should fix that do not stop the service (each with a stable code). */
function readinessWarnings(config: Config, now: Date): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  const graph = graphVersionWarning(config.env.WHATSAPP_API_VERSION, now);
  if (graph) out.push({ code: 'whatsapp_api_version_retired', message: graph });
  return out;
}

function leaksEnvValue(config: Config, doc: unknown): boolean {
  const text = JSON.stringify(doc);
  for (const name of config.configured) {
    const v = (config.env as Record<string, unknown>)[name];
    // Short or enum-like values (ports, "qa", "enabled") are not secrets and appear legitimately.
    if (
      typeof v === 'string' &&
      v.length >= 12 &&
      /[A-Za-z0-9]/.test(v) &&
      text.includes(v) &&
      !/^https?:\/\//.test(v)
    )
      return true;
  }
  return false;
}
