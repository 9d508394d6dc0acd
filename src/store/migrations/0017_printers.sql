-- Kitchen printers: ESC/POS network printers are `printer` devices the hub drives itself. Their
-- settings and live state, one print record per inbox entry, and each tenant's hold threshold.

CREATE TABLE lan_printers (
  tenant_id text NOT NULL,
  device_id text NOT NULL,
  -- tcp://host:port; checked against the allowed networks by the API before it is stored.
  address text NOT NULL CHECK (address ~ '^tcp://[^/\s]+:[0-9]{1,5}$'),
  columns int NOT NULL CHECK (columns BETWEEN 16 AND 96),
  profile text NOT NULL,
  backup_id text,
  confirm text NOT NULL DEFAULT 'status' CHECK (confirm IN ('status', 'write')),
  failover_after_s int NOT NULL DEFAULT 20 CHECK (failover_after_s BETWEEN 1 AND 3600),
  -- Live state written by the worker that drives the printer: online | offline | unknown.
  state text NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'online', 'offline')),
  reason text,
  state_since timestamptz NOT NULL DEFAULT now(),
  -- The hub process driving this printer, and until when (a lease: one worker per printer).
  worker text,
  lease_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, device_id),
  FOREIGN KEY (tenant_id, device_id) REFERENCES lan_devices (tenant_id, id),
  CHECK (backup_id IS NULL OR backup_id <> device_id)
);

-- One record per printer inbox entry once the worker took it up.
--   pending   tried and failed (reason); retried when its printer can print
--   writing   bytes are being (or were) written; not yet confirmed. Found at start-up = the process
--             died between write and confirmation: printed again once, marked.
--   printed   confirmed by the printer's status after the job (or written, on confirm:"write" printers:
--             `confirmed` false)
--   backup    printed on the backup printer (printed_on) while this one was down
--   held      older than the tenant's hold threshold when its printer could print it: waits for staff
--   released  staff released a held ticket: prints next
--   discarded staff discarded a held ticket (its inbox entry is dropped)
CREATE TABLE lan_prints (
  tenant_id text NOT NULL,
  device_id text NOT NULL,
  seq bigint NOT NULL,
  outbox_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'writing', 'printed', 'backup', 'held', 'released', 'discarded')),
  printed_on text,
  confirmed boolean NOT NULL DEFAULT false,
  -- A restart reprint was written (at most one per entry).
  restart_reprint boolean NOT NULL DEFAULT false,
  reason text,
  attempts int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, device_id, seq)
);
CREATE INDEX lan_prints_outbox ON lan_prints (outbox_id);
CREATE INDEX lan_prints_held ON lan_prints (tenant_id, status) WHERE status = 'held';

ALTER TABLE tenants ADD COLUMN printer_hold_after_min int NOT NULL DEFAULT 15
  CHECK (printer_hold_after_min BETWEEN 1 AND 1440);

SELECT enable_tenant_rls('lan_printers');
SELECT enable_tenant_rls('lan_prints');
