import { createHash } from 'node:crypto';
import type { AuditRow } from './rows.ts';

/** The first link of every tenant's chain. */
export const GENESIS = '0'.repeat(64);

/** An audit row as hashed: ids and times may come back as text (JSON from the store). */
export type HashableAudit = Omit<AuditRow, 'id' | 'created_at'> & {
  id: number | string;
  created_at: Date | string;
};

/** Canonical JSON: object keys sorted at every level, so the same content always hashes the same. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`;
}

/** hash_n = sha256(hash_{n-1} | seq | canonical(event)). Pure; used by the sealer and the verifier. */
export function linkHash(prevHash: string, seq: number, e: HashableAudit): string {
  const body = canonical({
    id: String(e.id),
    tenant: e.tenant_id,
    entity: e.entity,
    entityId: e.entity_id,
    actor: e.actor,
    action: e.action,
    from: e.from_status,
    to: e.to_status,
    reason: e.reason,
    detail: e.detail ?? null,
    at: new Date(e.created_at).toISOString(),
  });
  return createHash('sha256').update(`${prevHash}|${seq}|${body}`).digest('hex');
}
