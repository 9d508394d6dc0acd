-- Outbox core: tenants, API tokens, the outbox, its append-only attempt log and audit events.

CREATE TABLE tenants (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name text NOT NULL,
  country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  timezone text NOT NULL,
  locale text NOT NULL,
  opt_ins jsonb NOT NULL DEFAULT '{}'::jsonb,
  otp_allowed_prefixes text[] NOT NULL DEFAULT ARRAY['+994'],
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens are stored as SHA-256 hashes only; the token itself is shown once.
CREATE TABLE api_tokens (
  token_hash text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id),
  role text NOT NULL CHECK (role IN ('owner', 'device', 'service')),
  subject text NOT NULL,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_subject ON api_tokens (tenant_id, role, subject);

CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id),
  channel text NOT NULL CHECK (channel IN ('otp_sms', 'whatsapp', 'telegram', 'email', 'in_app')),
  adapter text NOT NULL,
  target text NOT NULL,
  title text,
  subject text,
  body text,
  template text,
  data jsonb,
  locale text,
  source text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'ready', 'sending', 'mock_sent', 'sent', 'delivered', 'read',
                                         'failed', 'dead', 'blocked', 'expired', 'cancelled')),
  reason text,
  mode text,
  idempotency_key text,
  request_hash text NOT NULL,
  send_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  next_attempt_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  lease_owner text,
  lease_expires_at timestamptz,
  provider_message_id text,
  last_error_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT outbox_idempotency UNIQUE (tenant_id, idempotency_key)
);
-- Due rows per lane; partial so the index stays small however large the history grows.
CREATE INDEX outbox_due ON outbox (adapter, next_attempt_at) WHERE status IN ('ready', 'failed');
CREATE INDEX outbox_leases ON outbox (lease_expires_at) WHERE status = 'sending';
CREATE INDEX outbox_waiting ON outbox (tenant_id, channel) WHERE status = 'queued';
CREATE INDEX outbox_tenant_list ON outbox (tenant_id, created_at DESC, id DESC);
CREATE INDEX outbox_provider_id ON outbox (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- One row per delivery attempt, never updated.
CREATE TABLE outbox_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outbox_id uuid NOT NULL REFERENCES outbox(id),
  tenant_id text NOT NULL REFERENCES tenants(id),
  attempt integer NOT NULL,
  adapter text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('dry_run', 'live', 'lan')),
  outcome text NOT NULL,
  error_code text,
  error_message text,
  provider_message_id text,
  request jsonb,
  response jsonb,
  worker text,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  duration_ms integer NOT NULL
);
CREATE INDEX outbox_attempts_row ON outbox_attempts (outbox_id, id);

-- Every state change of every row, in the same transaction as the change. Never updated.
CREATE TABLE audit_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id),
  entity text NOT NULL,
  entity_id text NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  from_status text,
  to_status text,
  reason text,
  detail jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_events_entity ON audit_events (tenant_id, entity, entity_id, id);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER outbox_attempts_append_only BEFORE UPDATE OR DELETE ON outbox_attempts
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
