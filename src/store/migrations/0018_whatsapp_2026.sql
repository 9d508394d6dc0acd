-- WhatsApp as it is in 2026 (docs/providers.md): customers identified by phone and/or
-- business-scoped user id (BSUID), per-message pricing on statuses.

-- One contact per tenant and customer, joining whichever identifiers Meta sent: phone (wa_id),
-- BSUID (user_id), parent BSUID (parent_user_id) and username. The 24-hour customer-service window
-- lives here, so a customer who writes without a phone number (username only) still opens it, and
-- a system webhook that changes their number or BSUID moves the window with the contact.
CREATE TABLE whatsapp_contacts (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id),
  wa_id text CHECK (wa_id ~ '^[0-9]{5,20}$'),
  user_id text CHECK (user_id ~ '^[A-Z]{2}\.[A-Za-z0-9]{1,128}$'),
  parent_user_id text CHECK (parent_user_id ~ '^[A-Z]{2}\.ENT\.[A-Za-z0-9]{1,128}$'),
  username text CHECK (length(username) <= 65),
  last_inbound_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL OR parent_user_id IS NOT NULL)
);
CREATE UNIQUE INDEX whatsapp_contacts_wa_id ON whatsapp_contacts (tenant_id, wa_id) WHERE wa_id IS NOT NULL;
CREATE UNIQUE INDEX whatsapp_contacts_user_id ON whatsapp_contacts (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX whatsapp_contacts_parent ON whatsapp_contacts (tenant_id, parent_user_id) WHERE parent_user_id IS NOT NULL;

-- Windows recorded before contacts existed become phone-only contacts.
INSERT INTO whatsapp_contacts (id, tenant_id, wa_id, last_inbound_at, created_at, updated_at)
SELECT md5(tenant_id || ':' || wa_id)::uuid, tenant_id, wa_id, last_inbound_at, updated_at, updated_at FROM whatsapp_windows;

-- Inbound messages keep every identifier their sender came with (sender stays the phone when there
-- is one, else the BSUID).
ALTER TABLE inbound_messages ADD COLUMN sender_user_id text, ADD COLUMN sender_parent_user_id text, ADD COLUMN sender_username text;

-- Statuses: the recipient's BSUID and Meta's pricing object ({billable, pricing_model, category, type}).
ALTER TABLE whatsapp_status_events ADD COLUMN recipient_user_id text, ADD COLUMN pricing jsonb;

DO $$
BEGIN
  IF to_regprocedure('enable_tenant_rls(regclass,text)') IS NOT NULL THEN
    PERFORM enable_tenant_rls('whatsapp_contacts');
  END IF;
END $$;
