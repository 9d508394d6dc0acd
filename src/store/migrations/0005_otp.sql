-- Owner login by OTP: owners and their phones, verifications, and the start events the fraud
-- limits count. Counting in the database makes the limits hold across processes and restarts.

-- The people who may sign in to a tenant's owner panel with a phone. An owner may have several
-- phones; a phone belongs to at most one owner of a tenant.
CREATE TABLE owners (
  tenant_id text NOT NULL REFERENCES tenants(id),
  phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  owner_id text NOT NULL CHECK (owner_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, phone)
);
CREATE INDEX owners_owner ON owners (tenant_id, owner_id);

-- One row per started verification. The code itself is never here: Twilio generates and checks it
-- (QA test numbers compare against config). `method` says who checks the code:
--   twilio       Twilio Verify (provider_sid is the VE… sid)
--   test_number  QA runtime only, OTP_TEST_NUMBERS
--   decoy        the phone is not an owner of the tenant: nothing was sent, every check fails,
--                and the API answers exactly as for an owner (no enumeration).
CREATE TABLE otp_verifications (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id),
  phone text NOT NULL,
  owner_id text,
  method text NOT NULL CHECK (method IN ('twilio', 'test_number', 'decoy')),
  provider_sid text,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'expired', 'dead', 'superseded')),
  checks integer NOT NULL DEFAULT 0,
  max_checks integer NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  client_ip text,
  outbox_id uuid REFERENCES outbox(id)
);
CREATE INDEX otp_verifications_phone ON otp_verifications (tenant_id, phone, created_at DESC);

-- Accepted starts, one row per limit key ('phone:+994…', 'ip:…', 'tenant:…', 'dial:+994').
-- Deliberately without a tenant_id column: the per-phone, per-IP and per-dial-code limits span
-- tenants, so the counts must not be narrowed by row-level security.
CREATE TABLE otp_rate_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX otp_rate_events_key ON otp_rate_events (key, created_at DESC);
CREATE INDEX otp_rate_events_age ON otp_rate_events (created_at);

-- A fresh database runs this before 0009, whose loop gives every tenant_id table its policies. A
-- database that already ran 0009 (this file landed later) gets them here.
DO $$
BEGIN
  IF to_regproc('enable_tenant_rls') IS NOT NULL THEN
    PERFORM enable_tenant_rls('owners');
    PERFORM enable_tenant_rls('otp_verifications');
  END IF;
END $$;
