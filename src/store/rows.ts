import type { TenantRow } from '../core/rows.ts';

export type { OutboxRow, AttemptRow, AuditRow, TenantRow } from '../core/rows.ts';

export function tenantFromJson(v: TenantRow | string): TenantRow {
  return typeof v === 'string' ? (JSON.parse(v) as TenantRow) : v;
}

export const OUTBOX_COLUMNS = `id, tenant_id, channel, adapter, target, title, subject, body, template, data, locale, source,
  status, reason, mode, idempotency_key, request_hash, send_at, expires_at, next_attempt_at, attempts, max_attempts,
  lease_owner, lease_expires_at, provider_message_id, last_error_code, created_at, updated_at`;
