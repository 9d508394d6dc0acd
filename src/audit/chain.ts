import { GENESIS, linkHash } from '../core/audit-hash.ts';
import type { Db } from '../store/driver.ts';
import {
  insertSeals,
  sealedTopId,
  sealHead,
  tenantAuditEvents,
  tenantSeals,
  trySealLock,
  unsealedEvents,
} from '../store/sql/audit-chain.ts';
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
  return sealedTopId(db, tenantId);
}

/**
 * Appends seals for a tenant's unsealed audit events, in id order, continuing the chain. One sealer
 * per tenant at a time (advisory lock), so the chain never forks across processes.
 */
export async function sealTenant(db: Db, tenantId: string, opts: SealOptions = {}): Promise<number> {
  const limit = opts.limit ?? 2_000;
  const stragglers = opts.stragglers ?? true;
  return db.tx(async (q) => {
    if (!(await trySealLock(q, tenantId))) return 0;
    const head = await sealHead(q, tenantId);
    let seq = Number(head?.seq ?? 0);
    let prev = head?.hash ?? GENESIS;
    const top = Number(head?.top ?? 0);
    const floor = Math.max(0, Math.min(top, opts.lookBackFrom ?? top) - LOOKBACK_IDS);
    // Stragglers below the newest sealed id first (lower ids), then the new tail after it.
    const todo = await unsealedEvents(q, tenantId, { floor, top, stragglers, limit });
    if (todo.length === 0) return 0;
    const seals = todo.map((e) => {
      seq += 1;
      const hash = linkHash(prev, seq, e);
      const s = { tenant_id: tenantId, seq, audit_id: Number(e.id), prev_hash: prev, hash };
      prev = hash;
      return s;
    });
    await insertSeals(q, seals);
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
  const seals = await tenantSeals(db, tenantId);
  const events = await tenantAuditEvents(db, tenantId);
  const byId = new Map(events.map((e) => [Number(e.id), e]));
  let prev = GENESIS;
  let expectSeq = 1;
  const sealed = new Set<number>();
  let lastSealedId = 0;
  for (const s of seals) {
    const seq = Number(s.seq);
    const auditId = Number(s.audit_id);
    const broken = (reason: string): VerifyReport => ({
      ok: false,
      tenant: tenantId,
      checked: expectSeq - 1,
      unsealed: events.length - sealed.size,
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
  const behind = events.filter(
    (e) => !sealed.has(Number(e.id)) && Number(e.id) < lastSealedId - LOOKBACK_IDS,
  );
  if (behind.length) {
    return {
      ok: false,
      tenant: tenantId,
      checked: expectSeq - 1,
      unsealed: events.length - sealed.size,
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
    unsealed: events.length - sealed.size,
    firstBroken: null,
  };
}
