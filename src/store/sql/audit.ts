import type { Queryable } from '../driver.ts';

export interface AuditInput {
  tenantId: string;
  entity:
    | 'outbox'
    | 'policy'
    | 'token'
    | 'device'
    | 'pairing'
    | 'inbound'
    | 'tenant'
    | 'telegram_link'
    | 'session'
    | 'otp';
  entityId: string;
  actor: string;
  action: string;
  from?: string | null;
  to?: string | null;
  reason?: string | null;
  detail?: unknown;
}

/** Appends audit events (batch-shaped). Callers run it inside the transaction of the change. */
export async function appendAudit(q: Queryable, events: readonly AuditInput[]): Promise<void> {
  if (events.length === 0) return;
  await q.query(
    `INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
     SELECT x.tenant_id, x.entity, x.entity_id, x.actor, x.action, x.from_status, x.to_status, x.reason, x.detail
     FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id text, entity text, entity_id text, actor text, action text,
       from_status text, to_status text, reason text, detail jsonb)`,
    [
      JSON.stringify(
        events.map((e) => ({
          tenant_id: e.tenantId,
          entity: e.entity,
          entity_id: e.entityId,
          actor: e.actor,
          action: e.action,
          from_status: e.from ?? null,
          to_status: e.to ?? null,
          reason: e.reason ?? null,
          detail: e.detail ?? null,
        })),
      ),
    ],
  );
}
