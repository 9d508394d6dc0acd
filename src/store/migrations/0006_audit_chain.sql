-- Tamper-evident audit: a hash chain per tenant over audit events, kept in its own append-only
-- table. A background sealer appends seals in order; audit_events itself is never updated.
CREATE TABLE audit_seals (
  tenant_id text NOT NULL REFERENCES tenants(id),
  seq bigint NOT NULL,
  audit_id bigint NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  sealed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (audit_id)
);

CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
