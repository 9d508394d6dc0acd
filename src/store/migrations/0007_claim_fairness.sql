-- Per-tenant fair claiming: the claim walks the tenants that have due rows (a skip scan over
-- tenant_id) and takes the oldest rows of each, so the index leads with (adapter, tenant_id).
-- It replaces outbox_due, which only the claim used; one partial index fewer to maintain per write.
CREATE INDEX outbox_due_tenant ON outbox (adapter, tenant_id, next_attempt_at) WHERE status IN ('ready', 'failed');
DROP INDEX IF EXISTS outbox_due;
