import { GENESIS, linkHash, type HashableAudit } from '../core/audit-hash.ts';
import type { Db } from '../store/driver.ts';

const AUDIT_COLS = 'a.id, a.tenant_id, a.entity, a.entity_id, a.actor, a.action, a.from_status, a.to_status, a.reason, a.detail, a.created_at';
// Late commits: a transaction can commit an audit row with a lower id after higher ids were sealed.
// The sealer looks back this many ids below the newest seal for such stragglers.
const LOOKBACK_IDS = 50_000;

/**
 * Appends seals for a tenant's unsealed audit events, in id order, continuing the chain. One sealer
 * per tenant at a time (advisory lock), so the chain never forks across processes.
 */
export async function sealTenant(db: Db, tenantId: string, limit = 2_000): Promise<number> {
  return db.tx(async (q) => {
    const lock = await q.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('audit_seal:' || $1)) AS ok`, [tenantId]);
    if (!lock.rows[0]?.ok) return 0;
    const head = await q.query<{ seq: number; hash: string; audit_id: number }>(
      'SELECT seq, hash, audit_id FROM audit_seals WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1',
      [tenantId],
    );
    let seq = Number(head.rows[0]?.seq ?? 0);
    let prev = head.rows[0]?.hash ?? GENESIS;
    const floor = Math.max(0, Number(head.rows[0]?.audit_id ?? 0) - LOOKBACK_IDS);
    const todo = await q.query<HashableAudit>(
      `SELECT ${AUDIT_COLS} FROM audit_events a
       WHERE a.tenant_id = $1 AND a.id > $2 AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.audit_id = a.id)
       ORDER BY a.id LIMIT $3`,
      [tenantId, floor, limit],
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
  const events = await db.query<HashableAudit>(`SELECT ${AUDIT_COLS} FROM audit_events a WHERE a.tenant_id = $1`, [tenantId]);
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
    if (linkHash(prev, seq, e) !== s.hash) return broken('the audit event was changed or reordered after sealing');
    lastSealedId = Math.max(lastSealedId, auditId);
    sealed.add(auditId);
    prev = s.hash;
    expectSeq++;
  }
  // Rows below the sealed range that carry no seal were inserted behind the chain's back.
  const behind = events.rows.filter((e) => !sealed.has(Number(e.id)) && Number(e.id) < lastSealedId - LOOKBACK_IDS);
  if (behind.length) {
    return {
      ok: false,
      tenant: tenantId,
      checked: expectSeq - 1,
      unsealed: events.rows.length - sealed.size,
      firstBroken: { seq: expectSeq, auditId: Number(behind[0]!.id), reason: 'an audit event was inserted behind the chain' },
    };
  }
  return { ok: true, tenant: tenantId, checked: expectSeq - 1, unsealed: events.rows.length - sealed.size, firstBroken: null };
}
