-- Inbound webhooks: verified deliveries staged raw ("store, then process"), inbound messages,
-- WhatsApp delivery-status dedupe, Telegram chat linking, and which tenant owns a WhatsApp number.

-- Every verified webhook delivery, stored before it is acknowledged. A background processor claims
-- pending rows with a short lease (next_attempt_at) and marks them processed. The dedupe key is
-- Telegram's update_id, or the SHA-256 of a WhatsApp body (Meta re-posts the same bytes on retry).
-- No tenant column: a delivery is routed to a tenant only while it is processed.
CREATE TABLE webhook_receipts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('whatsapp', 'telegram')),
  dedupe_key text NOT NULL,
  body text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  processed_at timestamptz,
  outcome text CHECK (outcome IN ('processed', 'failed')),
  CONSTRAINT webhook_receipts_dedupe UNIQUE (provider, dedupe_key)
);
CREATE INDEX webhook_receipts_pending ON webhook_receipts (next_attempt_at, id) WHERE processed_at IS NULL;
CREATE INDEX webhook_receipts_done ON webhook_receipts (processed_at) WHERE processed_at IS NOT NULL;

-- Which tenant a WhatsApp phone_number_id (webhook metadata) belongs to. When no row matches, the
-- number configured in WHATSAPP_PHONE_NUMBER_ID belongs to the demo tenant (if it exists); any
-- other number is unroutable.
CREATE TABLE tenant_whatsapp_numbers (
  phone_number_id text PRIMARY KEY CHECK (phone_number_id ~ '^[0-9]{1,32}$'),
  tenant_id text NOT NULL REFERENCES tenants(id),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Inbound customer and owner messages. tenant_id is NULL when the delivery matched no tenant.
-- They are records only: nothing here approves, voids or changes an order or a payment.
CREATE TABLE inbound_messages (
  id uuid PRIMARY KEY,
  tenant_id text REFERENCES tenants(id),
  provider text NOT NULL CHECK (provider IN ('whatsapp', 'telegram')),
  -- WhatsApp messages[].id (wamid) or Telegram update_id.
  external_id text NOT NULL,
  sender text NOT NULL,
  sender_name text,
  type text NOT NULL,
  text text,
  raw jsonb NOT NULL,
  sent_at timestamptz,
  received_at timestamptz NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT inbound_messages_dedupe UNIQUE (provider, external_id)
);
CREATE INDEX inbound_messages_tenant_list ON inbound_messages (tenant_id, received_at DESC, id DESC);

-- One row per (wamid, status): Meta retries and duplicates are applied once. outcome says what the
-- status did: applied to the outbox row, stale (the row was already further on), ignored (a
-- dry-run row), or unmatched (no row carries the wamid yet; retried for a while, since Meta can
-- report "sent" before the dispatcher has recorded the send).
CREATE TABLE whatsapp_status_events (
  wamid text NOT NULL,
  status text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  tenant_id text REFERENCES tenants(id),
  outbox_id uuid,
  recipient_id text,
  occurred_at timestamptz,
  errors jsonb,
  outcome text NOT NULL CHECK (outcome IN ('applied', 'stale', 'ignored', 'unmatched')),
  received_at timestamptz NOT NULL DEFAULT now(),
  settled_at timestamptz,
  PRIMARY KEY (wamid, status)
);
CREATE INDEX whatsapp_status_unmatched ON whatsapp_status_events (received_at) WHERE outcome = 'unmatched';

-- Single-use link tokens an owner creates to link a Telegram chat (/start <token>); hash only.
CREATE TABLE telegram_links (
  id uuid PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  tenant_id text NOT NULL REFERENCES tenants(id),
  owner_subject text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_chat_id text
);

-- Telegram chats linked to an owner of a tenant.
CREATE TABLE telegram_contacts (
  tenant_id text NOT NULL REFERENCES tenants(id),
  -- Chat ids can exceed 32 bits (up to 52 significant bits): kept as text.
  chat_id text NOT NULL CHECK (chat_id ~ '^-?[0-9]{1,20}$'),
  owner_subject text NOT NULL,
  link_id uuid REFERENCES telegram_links(id),
  first_name text,
  linked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, chat_id)
);
CREATE INDEX telegram_contacts_chat ON telegram_contacts (chat_id, linked_at DESC);

-- Webhooks registered with a provider (mupza-comms telegram set-webhook), for readiness. The URL is
-- stored with the secret path segment replaced by {TELEGRAM_WEBHOOK_SECRET}.
CREATE TABLE webhook_registrations (
  provider text PRIMARY KEY CHECK (provider IN ('telegram')),
  url text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now()
);

-- On a fresh database 0009 enables row-level security on every tenant table that exists by then,
-- these included. A database that already ran 0009 gets it here.
DO $$
BEGIN
  IF to_regprocedure('enable_tenant_rls(regclass,text)') IS NOT NULL THEN
    PERFORM enable_tenant_rls('tenant_whatsapp_numbers');
    PERFORM enable_tenant_rls('inbound_messages');
    PERFORM enable_tenant_rls('whatsapp_status_events');
    PERFORM enable_tenant_rls('telegram_links');
    PERFORM enable_tenant_rls('telegram_contacts');
  END IF;
END $$;
