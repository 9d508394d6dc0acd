import type { Db } from '../../src/store/driver.ts';

/** One lease of one row: claimed by `worker` for `attempt`, ended by its outcome or by expiry. */
export interface Lease {
  rowId: string;
  worker: string;
  attempt: number;
  claimedAt: number;
  claimAuditId: number;
  endedAt: number | null;
  endAuditId: number | null;
  end: 'recorded' | 'lease_expired' | null;
}

export interface LeaseReport {
  leases: Lease[];
  /** Human-readable violations; empty when every row had at most one lease at any moment. */
  violations: string[];
}

interface AuditEvent {
  id: number;
  entity_id: string;
  actor: string;
  action: string;
  from_status: string | null;
  to_status: string | null;
  detail: { attempt?: number } | null;
  at: number;
}

/**
 * Rebuilds every lease of the given rows from the audit trail (claimed → attempt | lease_expired)
 * and checks the single-claim invariant: a row is claimed only when no lease is open on it, only the
 * holder records an outcome, the recorded attempt is the holder's, and no lease is left open. Then
 * checks each attempt row against the lease it ran under. The audit ids give the commit order of
 * changes to one row: a claim locks the row, so the next change inserts its event after this one.
 */
export async function checkLeases(db: Db, rowIds: readonly string[]): Promise<LeaseReport> {
  const ev = await db.query<AuditEvent>(
    `SELECT id, entity_id, actor, action, from_status, to_status, detail,
       extract(epoch FROM created_at) * 1000 AS at
     FROM audit_events WHERE entity = 'outbox' AND entity_id = ANY($1::text[])
       AND action IN ('claimed', 'attempt', 'lease_expired') ORDER BY entity_id, id`,
    [rowIds],
  );
  const leases: Lease[] = [];
  const violations: string[] = [];
  const open = new Map<string, Lease>();
  for (const e of ev.rows) {
    const at = Number(e.at);
    const held = open.get(e.entity_id);
    if (e.action === 'claimed') {
      if (held)
        violations.push(
          `${e.entity_id}: claimed by ${e.actor} while ${held.worker} held attempt ${held.attempt}`,
        );
      const l: Lease = {
        rowId: e.entity_id,
        worker: e.actor,
        attempt: Number(e.detail?.attempt),
        claimedAt: at,
        claimAuditId: Number(e.id),
        endedAt: null,
        endAuditId: null,
        end: null,
      };
      leases.push(l);
      open.set(e.entity_id, l);
      continue;
    }
    if (!held) {
      violations.push(`${e.entity_id}: ${e.action} by ${e.actor} with no lease open`);
      continue;
    }
    if (e.action === 'attempt') {
      if (e.actor !== held.worker)
        violations.push(`${e.entity_id}: ${e.actor} recorded an outcome on ${held.worker}'s lease`);
      if (Number(e.detail?.attempt) !== held.attempt) {
        violations.push(
          `${e.entity_id}: outcome of attempt ${e.detail?.attempt} recorded on the lease of attempt ${held.attempt}`,
        );
      }
    }
    held.endedAt = at;
    held.endAuditId = Number(e.id);
    held.end = e.action === 'attempt' ? 'recorded' : 'lease_expired';
    open.delete(e.entity_id);
  }
  for (const l of open.values())
    violations.push(`${l.rowId}: lease of ${l.worker} (attempt ${l.attempt}) never ended`);

  // Windows of one row never overlap (stated directly, beside the event-order check above).
  const byRow = new Map<string, Lease[]>();
  for (const l of leases) byRow.set(l.rowId, [...(byRow.get(l.rowId) ?? []), l]);
  for (const [id, ls] of byRow) {
    const sorted = [...ls].sort((a, b) => a.claimAuditId - b.claimAuditId);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      if (
        prev.endAuditId === null ||
        prev.endAuditId > sorted[i]!.claimAuditId ||
        prev.endedAt! > sorted[i]!.claimedAt
      ) {
        violations.push(`${id}: lease ${i} (${sorted[i]!.worker}) overlaps lease ${i - 1} (${prev.worker})`);
      }
    }
  }

  // Every attempt row was written by the worker holding that attempt's lease.
  const att = await db.query<{ outbox_id: string; attempt: number; worker: string }>(
    `SELECT outbox_id::text, attempt, worker FROM outbox_attempts WHERE outbox_id = ANY($1::uuid[])`,
    [rowIds],
  );
  const leaseOf = new Map(leases.map((l) => [`${l.rowId}/${l.attempt}`, l]));
  for (const a of att.rows) {
    const l = leaseOf.get(`${a.outbox_id}/${a.attempt}`);
    if (!l) violations.push(`${a.outbox_id}: attempt row ${a.attempt} without a claim`);
    else if (l.worker !== a.worker)
      violations.push(`${a.outbox_id}: attempt ${a.attempt} written by ${a.worker}, leased to ${l.worker}`);
  }
  return { leases, violations };
}
