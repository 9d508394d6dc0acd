import type { z } from 'zod';
import { commaList, ENV_SCHEMA, IDENTIFIER_ENV_NAMES, SECRET_ENV_NAMES, type Env } from './schema.ts';
import type { AdapterId } from '../core/channels.ts';
import { ADAPTER_IDS } from '../core/channels.ts';
import type { Runtime } from '../core/gate.ts';
import { TURNSTILE_DUMMY_SECRETS, TURNSTILE_DUMMY_SITE_KEYS } from '../core/turnstile-keys.ts';

export interface Config {
  env: Env;
  runtime: Runtime;
  externalSends: 'enabled' | 'disabled';
  pinnedDryRun: ReadonlySet<AdapterId>;
  /** name → value of every configured secret; handed only to the redactor and the adapters. */
  secrets: Record<string, string>;
  /** name → value of every configured identifier (SIDs, phone number id, SMTP account); masked when shown. */
  identifiers: Record<string, string>;
  /** Which env names have a value (names only). */
  configured: ReadonlySet<string>;
  otpTestNumbers: ReadonlyMap<string, string>;
  /**
   * The tenant a request that names none belongs to (OTP sign-in, Telegram /start, the configured
   * WhatsApp number): the demo tenant `npm start` seeds.
   */
  defaultTenant: string;
}

export const DEFAULT_TENANT_ID = 'demo';

/** The WhatsApp Business Account whose templates are synced (template sync is off without it). */
export function wabaIdOf(config: Config): string | null {
  return config.env.WHATSAPP_BUSINESS_ACCOUNT_ID ?? null;
}

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.');
  // The message names the variable and the rule; zod messages never include the input value.
  return `${name}: ${issue.message}`;
}

/**
 * Reads the environment: the only function in the codebase that looks at process.env values
 * (callers pass process.env in). Empty strings count as unset.
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(ENV_SCHEMA.shape)) {
    const v = source[key];
    if (v !== undefined && v.trim() !== '') raw[key] = v;
  }
  const parsed = ENV_SCHEMA.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const env = parsed.data;

  const issues: string[] = [];
  const pinned = new Set<AdapterId>();
  for (const id of commaList(env.COMMS_DRY_RUN_ADAPTERS)) {
    if ((ADAPTER_IDS as readonly string[]).includes(id)) pinned.add(id as AdapterId);
    else issues.push(`COMMS_DRY_RUN_ADAPTERS: unknown adapter id (allowed: ${ADAPTER_IDS.join(', ')})`);
  }

  const otpTestNumbers = new Map<string, string>();
  if (env.OTP_TEST_NUMBERS) {
    if (env.MUPZA_RUNTIME !== 'qa') {
      issues.push('OTP_TEST_NUMBERS: fixed test numbers are only allowed when MUPZA_RUNTIME=qa');
    }
    for (const pair of commaList(env.OTP_TEST_NUMBERS)) {
      const m = /^(\+[1-9]\d{6,14}):(\d{4,10})$/.exec(pair);
      if (!m) {
        issues.push('OTP_TEST_NUMBERS: each entry must be +<E.164>:<4-10 digit code>');
        break;
      }
      otpTestNumbers.set(m[1]!, m[2]!);
    }
  }
  if (env.MUPZA_RUNTIME !== 'qa') {
    if (
      env.CLOUDFLARE_TURNSTILE_SECRET_KEY &&
      TURNSTILE_DUMMY_SECRETS.includes(env.CLOUDFLARE_TURNSTILE_SECRET_KEY)
    ) {
      issues.push(
        "CLOUDFLARE_TURNSTILE_SECRET_KEY: Cloudflare's dummy test keys are only allowed when MUPZA_RUNTIME=qa",
      );
    }
    if (
      env.CLOUDFLARE_TURNSTILE_SITE_KEY &&
      TURNSTILE_DUMMY_SITE_KEYS.includes(env.CLOUDFLARE_TURNSTILE_SITE_KEY)
    ) {
      issues.push(
        "CLOUDFLARE_TURNSTILE_SITE_KEY: Cloudflare's dummy test keys are only allowed when MUPZA_RUNTIME=qa",
      );
    }
  }
  if (issues.length) throw new ConfigError(issues);

  const secrets: Record<string, string> = {};
  for (const name of SECRET_ENV_NAMES) {
    const v = raw[name];
    if (v) secrets[name] = v;
  }
  if (raw.DATABASE_URL) {
    try {
      const pw = decodeURIComponent(new URL(raw.DATABASE_URL).password);
      if (pw) secrets.DATABASE_URL_PASSWORD = pw;
    } catch {
      // A URL that does not parse has no password to hide; pg will report it without the value.
    }
  }

  const identifiers: Record<string, string> = {};
  for (const name of IDENTIFIER_ENV_NAMES) {
    const v = raw[name];
    if (v) identifiers[name] = v;
  }

  return {
    env,
    runtime: env.MUPZA_RUNTIME,
    externalSends: env.COMMS_EXTERNAL_SENDS,
    pinnedDryRun: pinned,
    secrets,
    identifiers,
    configured: new Set(Object.keys(raw)),
    otpTestNumbers,
    defaultTenant: DEFAULT_TENANT_ID,
  };
}

/** The process environment, read here and nowhere else. */
export function loadProcessConfig(): Config {
  return loadConfig(process.env);
}

/** The environment for a child process this service starts (e.g. the panel build), plus `extra`. */
export function childProcessEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...extra };
}
