-- LAN hub: registered devices and one durable inbox per device with its own sequence numbers.

CREATE TABLE lan_devices (
  tenant_id text NOT NULL REFERENCES tenants(id),
  id text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  role text NOT NULL CHECK (role IN ('pos', 'waiter', 'kitchen', 'printer')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- The per-device counter: the last seq handed out. A writer locks the row (FOR UPDATE), numbers
  -- its entries from it and bumps it in the same statement, so two processes never hand out the same
  -- seq and seqs have no holes.
  last_seq bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_seen_at timestamptz,
  -- The hub process holding the device's socket (NULL when none); trusted only while last_seen_at is fresh.
  connected_hub text,
  PRIMARY KEY (tenant_id, id)
) WITH (fillfactor = 50); -- last_seq changes on every delivery: room for HOT updates
CREATE INDEX lan_devices_role ON lan_devices (tenant_id, role) WHERE revoked_at IS NULL;

-- How far each device has acknowledged (acks are cumulative). Its own table, so recording acks never
-- waits on the inbox writer's lock of the device row; one row per device however many entries.
CREATE TABLE lan_device_acks (
  tenant_id text NOT NULL,
  device_id text NOT NULL,
  acked_seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, device_id)
) WITH (fillfactor = 50);

-- One entry per (device, outbox row). Content is read from the outbox row, so a role broadcast to
-- many screens stores the text once.
CREATE TABLE lan_inbox (
  tenant_id text NOT NULL,
  device_id text NOT NULL,
  seq bigint NOT NULL,
  outbox_id uuid NOT NULL REFERENCES outbox(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the device is revoked before acking it: never replayed to a re-registered device, and
  -- no longer awaited for `delivered`. (Acked = seq <= the device's acked_seq.)
  dropped_at timestamptz,
  PRIMARY KEY (tenant_id, device_id, seq),
  -- A row dispatched twice (lease expired mid-send) lands in each inbox once. Led by outbox_id, the
  -- same index finds a row's entries (the `delivered` check).
  CONSTRAINT lan_inbox_once UNIQUE (outbox_id, tenant_id, device_id)
  -- No foreign key to lan_devices: devices are never deleted (revocation is a flag), entries are
  -- only written for device rows the writer holds locked, and the per-row key check doubled the
  -- cost of a 200-screen broadcast.
);

-- in_app rows waiting for device acks: the sweeper that finishes rows whose last ack raced the
-- dispatcher reads only these.
CREATE INDEX outbox_in_app_sent ON outbox (updated_at) WHERE channel = 'in_app' AND status = 'sent';
