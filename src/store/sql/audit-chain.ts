import type { HashableAudit } from '../../core/audit-hash.ts';
import type { Queryable } from '../driver.ts';

const AUDIT_COLS =
  'a.id, a.tenant_id, a.entity, a.entity_id, a.actor, a.action, a.from_status, a.to_status, a.reason, a.detail, a.created_at';

export interface SealRow {
  seq: number;
  audit_id: number;
  prev_hash: string;
  hash: string;
}

export interface SealHead {
  seq: number | null;
  hash: string | null;
  /** The newest sealed audit id (seals are not in id order when stragglers were sealed late). */
  top: number | null;
}

export async function tenantIds(q: Queryable): Promise<string[]> {
  const r = await q.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
  return r.rows.map((t) => t.id);
}

/** The newest audit id sealed for a tenant (one index probe). */
export async function sealedTopId(q: Queryable, tenantId: string): Promise<number> {
  const r = await q.query<{ top: number | null }>(
    'SELECT max(audit_id) AS top FROM audit_seals WHERE tenant_id = $1',
    [tenantId],
  );
  return Number(r.rows[0]?.top ?? 0);
}

/** Takes the tenant's sealing lock for this transaction; false when another sealer holds it. */
export async function trySealLock(q: Queryable, tenantId: string): Promise<boolean> {
  const r = await q.query<{ ok: boolean }>(
    `SELECT pg_try_advisory_xact_lock(hashtext('audit_seal:' || $1)) AS ok`,
    [tenantId],
  );
  return r.rows[0]?.ok ?? false;
}

/** The last link of the tenant's chain and the newest sealed audit id. */
export async function sealHead(q: Queryable, tenantId: string): Promise<SealHead | null> {
  const r = await q.query<SealHead>(
    `SELECT h.seq, h.hash, (SELECT max(audit_id) FROM audit_seals WHERE tenant_id = $1) AS top
     FROM (SELECT 1) one LEFT JOIN LATERAL (
       SELECT seq, hash FROM audit_seals WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1) h ON true`,
    [tenantId],
  );
  return r.rows[0] ?? null;
}

/**
 * Unsealed events in id order: with `stragglers`, those between `floor` and `top` that carry no
 * seal first, then the tail after `top`.
 */
export async function unsealedEvents(
  q: Queryable,
  tenantId: string,
  opts: { floor: number; top: number; stragglers: boolean; limit: number },
): Promise<HashableAudit[]> {
  // The look-back is a set difference over two index ranges: a merge anti-join reads each once.
  // Left to itself, the planner of a young database (no statistics yet) picked a nested loop
  // that re-read the whole seal range per event: minutes instead of milliseconds.
  if (opts.stragglers) {
    await q.query('SET LOCAL enable_nestloop = off');
    await q.query('SET LOCAL enable_hashjoin = off');
  }
  const r = await q.query<HashableAudit>(
    `(SELECT ${AUDIT_COLS} FROM audit_events a
      WHERE $4 AND a.tenant_id = $1 AND a.id > $2 AND a.id < $3
        AND NOT EXISTS (SELECT 1 FROM audit_seals s
                    WHERE s.tenant_id = $1 AND s.audit_id = a.id AND s.audit_id > $2 AND s.audit_id < $3)
      ORDER BY a.id LIMIT $5)
     UNION ALL
     (SELECT ${AUDIT_COLS} FROM audit_events a WHERE a.tenant_id = $1 AND a.id > $3 ORDER BY a.id LIMIT $5)
     LIMIT $5`,
    [tenantId, opts.floor, opts.top, opts.stragglers, opts.limit],
  );
  return r.rows;
}

export async function insertSeals(
  q: Queryable,
  seals: readonly { tenant_id: string; seq: number; audit_id: number; prev_hash: string; hash: string }[],
): Promise<void> {
  await q.query(
    `INSERT INTO audit_seals (tenant_id, seq, audit_id, prev_hash, hash)
     SELECT tenant_id, seq, audit_id, prev_hash, hash FROM jsonb_to_recordset($1::jsonb)
       AS x(tenant_id text, seq bigint, audit_id bigint, prev_hash text, hash text)`,
    [JSON.stringify(seals)],
  );
}

export async function tenantSeals(q: Queryable, tenantId: string): Promise<SealRow[]> {
  const r = await q.query<SealRow>(
    'SELECT seq, audit_id, prev_hash, hash FROM audit_seals WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return r.rows;
}

export async function tenantAuditEvents(q: Queryable, tenantId: string): Promise<HashableAudit[]> {
  const r = await q.query<HashableAudit>(`SELECT ${AUDIT_COLS} FROM audit_events a WHERE a.tenant_id = $1`, [
    tenantId,
  ]);
  return r.rows;
}
