-- Device pairing codes and "done" marks for in_app rows (the notification center).

-- A pairing code the owner created for one device. Only the code's SHA-256 is kept: codes are shown
-- once and never listed back. A code is open while used_at, killed_at are NULL and expires_at is
-- ahead; `failures` counts wrong tries charged to it (see src/lan/pairing.ts), 5 kill it.
CREATE TABLE lan_pairings (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id),
  code_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('pos', 'waiter', 'kitchen', 'printer')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- Re-pairing an existing device (a tablet that lost its storage) names it; else a new id is made.
  device_id text CHECK (device_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by_device text,
  killed_at timestamptz,
  failures int NOT NULL DEFAULT 0
);
CREATE INDEX lan_pairings_open ON lan_pairings (expires_at) WHERE used_at IS NULL AND killed_at IS NULL;
SELECT enable_tenant_rls('lan_pairings');

-- The first target device that marked an in_app row done (bump). One per row: two POS desktops
-- never both own a ticket. Undo deletes it (within 5 minutes); the row's `read` status stays.
CREATE TABLE lan_done (
  tenant_id text NOT NULL,
  outbox_id uuid NOT NULL REFERENCES outbox(id),
  device_id text NOT NULL,
  device_name text NOT NULL,
  done_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (outbox_id, tenant_id)
);
SELECT enable_tenant_rls('lan_done');
