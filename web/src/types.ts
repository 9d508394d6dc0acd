/** Shapes of the owner API (/api/v1) as the panel reads them. */
import type { Channel } from '../../src/core/channels.ts';
import type { Status } from '../../src/core/status.ts';

// The domain lists come from the server's pure core (no I/O), so the panel cannot drift from them.
export { CHANNELS, type Channel } from '../../src/core/channels.ts';
export { STATUSES, type Status } from '../../src/core/status.ts';
export type { TemplateInfo } from '../../src/core/templates.ts';
/** Which statuses the owner may retry or cancel; the server still decides and answers 409 otherwise. */
export { RETRYABLE_BY_OWNER as RETRYABLE, CANCELLABLE } from '../../src/core/status.ts';

export { DEVICE_ROLES as ROLES, type DeviceRole as Role } from '../../src/core/devices.ts';

export const FLAG_KEYS = [
  'externalSendsDisabled',
  'outboxAuditRequired',
  'otpOnlineOnly',
  'posLanProtected',
  'cashierApprovalUntouched',
  'secretsNeverReturned',
  'providerAdaptersDryRun',
  'envValuesRedacted',
] as const;
export type FlagKey = (typeof FLAG_KEYS)[number];

export const SUMMARY_KEYS = [
  'providers',
  'outboxItems',
  'envRequiredProviders',
  'lanSafeItems',
  'dryRunAdapters',
] as const;
export type SummaryKey = (typeof SUMMARY_KEYS)[number];

export type Runtime = 'qa' | 'development' | 'production';
export type Mode = 'dry_run' | 'live' | 'lan';

export interface AuthConfig {
  otpProvider: 'twilio' | 'firebase' | null;
  otpReady: boolean;
  otpMissing: 'provider' | 'provider_env' | null;
  runtime: Runtime;
  firebase: { apiKey?: string; authDomain?: string; projectId?: string; appId?: string } | null;
  /** Cloudflare Turnstile site key (public); when set, OTP start needs the widget's token. */
  turnstileSiteKey?: string | null;
}

export interface Tenant {
  id: string;
  name: string;
  country: string;
  currency: string;
  timezone: string;
  locale: string;
}

export interface Me {
  tenant: Tenant;
  role: 'owner';
  subject: string;
}

export interface EnvName {
  name: string;
  configured: boolean;
  /** Shown for the contract but not needed by it (Turnstile on OTP start). */
  optional?: true;
}

export interface Contract {
  id: string;
  name: string;
  provider: string;
  note: string;
  status: 'env_required' | 'configured' | 'lan_ready';
  adapters: string[];
  env: EnvName[];
}

export interface Adapter {
  id: string;
  name: string;
  provider: string;
  channel: string;
  mode: Mode;
  lanSafe: boolean;
  endpoint: string;
  webhook: string;
  note: string;
  env: EnvName[];
}

export interface Readiness {
  tenant: { id: string; country: string; currency: string };
  runtime: Runtime;
  store: { kind: 'pglite' | 'postgres'; durable: boolean; note?: string };
  summary: Record<SummaryKey, number>;
  flags: Record<FlagKey, boolean>;
  contracts: Contract[];
  adapters: Adapter[];
  /** Can the hub reach its online providers (what LAN devices are told too). */
  internet?: 'up' | 'down' | 'unknown';
}

export interface OutboxItem {
  id: string;
  channel: Channel;
  target: string;
  title: string | null;
  subject: string | null;
  body: string | null;
  template: string | null;
  source: string;
  status: Status;
  reason: string | null;
  adapter: string;
  /** null until the gate has decided how the row will be sent. */
  mode: Mode | null;
  offlineSafe: boolean;
  attemptCount: number;
  maxAttempts: number;
  sendAt: string | null;
  nextAttemptAt: string | null;
  expiresAt?: string | null;
  providerMessageId: string | null;
  lastErrorCode: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface OutboxPage {
  items: OutboxItem[];
  nextCursor: string | null;
}

export interface Attempt {
  attempt: number;
  adapter: string;
  mode: string;
  outcome: string;
  errorCode: string | null;
  errorMessage: string | null;
  providerMessageId: string | null;
  request: unknown;
  response: unknown;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface OutboxDetail extends OutboxItem {
  /** The template data as enqueued (the item view only; lists never carry it). */
  data?: Record<string, unknown> | null;
  attempts: Attempt[];
}

export interface AuditEvent {
  id: string | number;
  at: string | null;
  actor: string;
  action: string;
  from: string | null;
  to: string | null;
  reason: string | null;
  detail: unknown;
}

export interface StatusAnswer {
  id: string;
  status: Status;
  reason: string | null;
}

export type OptIns = Record<Channel, boolean>;

export interface PolicyAnswer {
  optIns: OptIns;
  /** How many waiting rows the server re-checked against the new policy. */
  reevaluated?: number;
}

export interface TelegramLink {
  token: string;
  url: string | null;
  expiresAt: string;
}

export interface Device {
  id: string;
  role: string;
  name: string;
  createdAt: string;
  lastSeenAt: string | null;
  connected: boolean;
}

export interface PrinterState {
  id: string;
  name: string;
  address: string;
  columns: number;
  profile: string;
  backup: string | null;
  confirm: 'status' | 'write';
  failoverAfterS: number;
  state: 'unknown' | 'online' | 'offline';
  reason: string | null;
  stateSince: string;
  waiting: number;
  held: number;
  unconfirmed: boolean;
}

export interface HeldTicket {
  printer: string;
  seq: number;
  outboxId: string;
  title: string | null;
  createdAt: string;
  reason: string | null;
}

export interface LiveEvent {
  type: string;
  id?: string;
  status?: string;
}

export interface WhatsAppUsage {
  month: string;
  counts: { category: string; billable: boolean; messages: number }[];
  totals: { billable: number; free: number };
  estimate: { currency: 'AZN'; estimatedAzn: number | null; unpricedCategories: string[] };
  cap: { limit: number; used: number; percent: number } | null;
}
