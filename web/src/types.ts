/** Shapes of the owner API (/api/v1) as the panel reads them. */
import type { z } from 'zod';
import type * as api from '../../src/http/api-schemas.ts';
import type { DeviceList } from '../../src/lan/routes-devices.ts';
import type { Held, PrinterList } from '../../src/printers/routes.ts';
import type { TelegramLinkAnswer, WhatsAppUsage as WhatsAppUsageAnswer } from '../../src/webhooks/schemas.ts';

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

// The API's shapes are the server's own response schemas (the ones the OpenAPI document is made
// from), inferred here, so the panel and device app cannot drift from what the API answers.
type Answer<S extends z.ZodType> = z.infer<S>;

export type Runtime = AuthConfig['runtime'];
export type Mode = NonNullable<OutboxItem['mode']>;
export type AuthConfig = Answer<typeof api.AuthConfig>;
export type Tenant = Answer<typeof api.TenantInfo>;
export type Me = Answer<typeof api.MeAnswer>;
export type Readiness = Answer<typeof api.Readiness>;
export type Contract = Readiness['contracts'][number];
export type Adapter = Readiness['adapters'][number];
export type EnvName = Contract['env'][number];
export type OutboxItem = Answer<typeof api.OutboxItem>;
export type OutboxPage = Answer<typeof api.OutboxPage>;
export type Attempt = Answer<typeof api.Attempt>;
export type OutboxDetail = Answer<typeof api.OutboxItemDetail>;
export type AuditEvent = Answer<typeof api.AuditEvent>;
export type StatusAnswer = Answer<typeof api.TransitionAnswer>;
export type PolicyAnswer = Answer<typeof api.PolicyAnswer>;
export type OptIns = PolicyAnswer['optIns'];
export type TelegramLink = Answer<typeof TelegramLinkAnswer>;
export type WhatsAppUsage = Answer<typeof WhatsAppUsageAnswer>;
export type Device = Answer<typeof DeviceList>['devices'][number];
export type PrinterState = Answer<typeof PrinterList>['printers'][number];
export type HeldTicket = Answer<typeof Held>;

export interface LiveEvent {
  type: string;
  id?: string;
  status?: string;
}
