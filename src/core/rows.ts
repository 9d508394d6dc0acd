/** The shapes of stored rows, as every layer names them (the store reads and writes them). */
import type { Channel, AdapterId } from './channels.ts';
import type { Status } from './status.ts';

/** An outbox row as the database returns it. */
export interface OutboxRow {
  id: string;
  tenant_id: string;
  channel: Channel;
  adapter: AdapterId;
  target: string;
  title: string | null;
  subject: string | null;
  body: string | null;
  template: string | null;
  data: Record<string, unknown> | null;
  locale: string | null;
  source: string;
  status: Status;
  reason: string | null;
  mode: 'dry_run' | 'live' | 'lan' | null;
  idempotency_key: string | null;
  request_hash: string;
  send_at: Date;
  expires_at: Date | null;
  next_attempt_at: Date | null;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  provider_message_id: string | null;
  last_error_code: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface AttemptRow {
  id: number;
  outbox_id: string;
  attempt: number;
  adapter: string;
  mode: 'dry_run' | 'live' | 'lan';
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  provider_message_id: string | null;
  request: unknown;
  response: unknown;
  worker: string | null;
  started_at: Date;
  finished_at: Date;
  duration_ms: number;
}

export interface AuditRow {
  id: number;
  tenant_id: string;
  entity: string;
  entity_id: string;
  actor: string;
  action: string;
  from_status: string | null;
  to_status: string | null;
  reason: string | null;
  detail: unknown;
  created_at: Date;
}

export interface TenantRow {
  id: string;
  name: string;
  country: string;
  currency: string;
  timezone: string;
  locale: string;
  opt_ins: Partial<Record<Channel, boolean>>;
  otp_allowed_prefixes: string[];
  created_at: Date;
}

/** A tenant read with `row_to_json(t.*)`: drivers hand json columns back parsed or as text. */
