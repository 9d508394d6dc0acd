import { GENESIS, linkHash, type HashableAudit } from '../core/audit-hash.ts';
import type { Db } from '../store/driver.ts';

const AUDIT_COLS =
  'a.id, a.tenant_id, a.entity, a.entity_id, a.actor, a.action, a.from_status, a.to_status, a.reason, a.detail, a.created_at';
// Late commits: a transaction can commit an audit row with a lower id after higher ids were sealed.
// The sealer looks back this many ids below the newest seal for such stragglers.
const LOOKBACK_IDS = 50_000;

export interface SealOptions {
  /** Events per round. */
  limit?: number;
  /**
   * Also look back for stragglers: events below the newest sealed id that committed after it was
   * sealed (a transaction takes its audit id before it commits). This anti-join reads the last
   * LOOKBACK_IDS events, so the background sealer does it every few seconds, not every round.
   */
  stragglers?: boolean;
  /**
   * Look back from this sealed id instead of the newest (the newest at the caller's previous
   * look-back), so periodic look-backs cover everything sealed in between.
   */
  lookBackFrom?: number;
}

/** The newest audit id sealed for a tenant (one index probe). */
export async function sealedTop(db: Db, tenantId: string): Promise<number> {
  const r = await db.query<{ top: number | null }>(
    'SELECT max(audit_id) AS top FROM audit_seals WHERE tenant_id = $1',
    [tenantId],
  );
  return Number(r.rows[0]?.top ?? 0);
}

/**
 * Appends seals for a tenant's unsealed audit events, in id order, continuing the chain. One sealer
 * per tenant at a time (advisory lock), so the chain never forks across processes.
 */
export async function sealTenant(db: Db, tenantId: string, opts: SealOptions = {}): Promise<number> {
  const limit = opts.limit ?? 2_000;
  const stragglers = opts.stragglers ?? true;
  return db.tx(async (q) => {
    const lock = await q.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('audit_seal:' || $1)) AS ok`,
      [tenantId],
    );
    if (!lock.rows[0]?.ok) return 0;
    const head = await q.query<{ seq: number | null; hash: string | null; top: number | null }>(
      `SELECT h.seq, h.hash, (SELECT max(audit_id) FROM audit_seals WHERE tenant_id = $1) AS top
       FROM (SELECT 1) one LEFT JOIN LATERAL (
         SELECT seq, hash FROM audit_seals WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1) h ON true`,
      [tenantId],
    );
    let seq = Number(head.rows[0]?.seq ?? 0);
    let prev = head.rows[0]?.hash ?? GENESIS;
    const top = Number(head.rows[0]?.top ?? 0);
    const floor = Math.max(0, Math.min(top, opts.lookBackFrom ?? top) - LOOKBACK_IDS);
    // The look-back is a set difference over two index ranges: a merge anti-join reads each once.
    // Left to itself, the planner of a young database (no statistics yet) picked a nested loop
    // that re-read the whole seal range per event: minutes instead of milliseconds.
    if (stragglers) {
      await q.query('SET LOCAL enable_nestloop = off');
      await q.query('SET LOCAL enable_hashjoin = off');
    }
    // Stragglers below the newest sealed id first (lower ids), then the new tail after it.
    const todo = await q.query<HashableAudit>(
      `(SELECT ${AUDIT_COLS} FROM audit_events a
        WHERE $4 AND a.tenant_id = $1 AND a.id > $2 AND a.id < $3
          AND NOT EXISTS (SELECT 1 FROM audit_seals s
                      WHERE s.tenant_id = $1 AND s.audit_id = a.id AND s.audit_id > $2 AND s.audit_id < $3)
        ORDER BY a.id LIMIT $5)
       UNION ALL
       (SELECT ${AUDIT_COLS} FROM audit_events a WHERE a.tenant_id = $1 AND a.id > $3 ORDER BY a.id LIMIT $5)
       LIMIT $5`,
      [tenantId, floor, top, stragglers, limit],
    );
    if (todo.rows.length === 0) return 0;
    const seals = todo.rows.map((e) => {
      seq += 1;
      const hash = linkHash(prev, seq, e);
      const s = { tenant_id: tenantId, seq, audit_id: Number(e.id), prev_hash: prev, hash };
      prev = hash;
      return s;
    });
    await q.query(
      `INSERT INTO audit_seals (tenant_id, seq, audit_id, prev_hash, hash)
       SELECT tenant_id, seq, audit_id, prev_hash, hash FROM jsonb_to_recordset($1::jsonb)
         AS x(tenant_id text, seq bigint, audit_id bigint, prev_hash text, hash text)`,
      [JSON.stringify(seals)],
    );
    return seals.length;
  });
}

export interface VerifyReport {
  ok: boolean;
  tenant: string;
  checked: number;
  /** Audit events not sealed yet (newer than the last sealer run). */
  unsealed: number;
  firstBroken: { seq: number; auditId: number | null; reason: string } | null;
}

/**
 * Walks a tenant's chain from the genesis: recomputes every link from the stored audit event and
 * reports the first one that does not hold (edited, deleted or reordered rows).
 */
export async function verifyTenant(db: Db, tenantId: string): Promise<VerifyReport> {
  const seals = await db.query<{ seq: number; audit_id: number; prev_hash: string; hash: string }>(
    'SELECT seq, audit_id, prev_hash, hash FROM audit_seals WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  const events = await db.query<HashableAudit>(
    `SELECT ${AUDIT_COLS} FROM audit_events a WHERE a.tenant_id = $1`,
    [tenantId],
  );
  const byId = new Map(events.rows.map((e) => [Number(e.id), e]));
  let prev = GENESIS;
  let expectSeq = 1;
  const sealed = new Set<number>();
  let lastSealedId = 0;
  for (const s of seals.rows) {
    const seq = Number(s.seq);
    const auditId = Number(s.audit_id);
    const broken = (reason: string): VerifyReport => ({
      ok: false,
      tenant: tenantId,
      checked: expectSeq - 1,
      unsealed: events.rows.length - sealed.size,
      firstBroken: { seq, auditId, reason },
    });
    if (seq !== expectSeq) return broken(`seal ${expectSeq} is missing`);
    if (s.prev_hash !== prev) return broken('the link does not continue the previous hash');
    const e = byId.get(auditId);
    if (!e) return broken('the sealed audit event was deleted');
    if (linkHash(prev, seq, e) !== s.hash)
      return broken('the audit event was changed or reordered after sealing');
    lastSealedId = Math.max(lastSealedId, auditId);
    sealed.add(auditId);
    prev = s.hash;
    expectSeq++;
  }
  // Rows below the sealed range that carry no seal were inserted behind the chain's back.
  const behind = events.rows.filter(
    (e) => !sealed.has(Number(e.id)) && Number(e.id) < lastSealedId - LOOKBACK_IDS,
  );
  if (behind.length) {
    return {
      ok: false,
      tenant: tenantId,
      checked: expectSeq - 1,
      unsealed: events.rows.length - sealed.size,
      firstBroken: {
        seq: expectSeq,
        auditId: Number(behind[0]!.id),
        reason: 'an audit event was inserted behind the chain',
      },
    };
  }
  return {
    ok: true,
    tenant: tenantId,
    checked: expectSeq - 1,
    unsealed: events.rows.length - sealed.size,
    firstBroken: null,
  };
}
